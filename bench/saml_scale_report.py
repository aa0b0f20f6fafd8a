"""The report of bench/saml_scale.py: Markdown tables, ratios and the issue's targets."""

from __future__ import annotations


def report(results: dict) -> str:
    sizes = list(results["sizes"])
    lines = ["# SAML at federation scale", "",
             f"Measured {results['measured_at']}, load average {results['machine']['load_average_before']}"
             f" before and {results['machine']['load_average_after']} after; "
             f"{results['setup']['server']}; {results['setup']['database']}, "
             f"{results['setup']['store']} store; medians of {results['setup']['rounds']} "
             "alternating rounds. 'this' loads the SPs as a federation source; the baseline "
             f"({results['setup']['baseline']}, {results['setup']['baseline_server']}) reads "
             "the same aggregate as a file."
             + _gauge(results["machine"]), "",
             "| SPs | code | CPU ms / response | responses / CPU-s | launch to first SSO s "
             "| first SSO ms | p99 ms | worker RSS MB | worker private MB |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size in sizes:
        for name, http in results["sizes"][size]["http"].items():
            lines.append(f"| {size} | {name} | {http['cpu_ms_per_response']:.2f} | "
                         f"{http['responses_per_cpu_second']:.0f} | "
                         f"{http['launch_to_first_sso_s']:.2f} | {http['first_sso_ms']:.0f} | "
                         f"{http['p99_ms']:.1f} | {http['worker_rss_mb']:.0f} | "
                         f"{http['worker_private_mb']:.0f} |")
    lines += ["", "Ratios (this / baseline, same size; per-round medians):", ""]
    lines += _ratios(results)
    lines += ["", "In process (this code): building the index at start, its memory, look-ups.",
              "", "| SPs | loaded from | start-up s | index RSS MB | find µs | pysaml2 ACS "
              "look-up µs |", "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for size in sizes:
        for kind, figures in results["sizes"][size]["in_process"].items():
            lines.append(f"| {figures['sps']} | {kind} | {figures['start_up_s']:.3f} | "
                         f"{figures['index_rss_mb']:.1f} | {figures['find_us']:.2f} | "
                         f"{figures['pysaml2_acs_lookup_us']:.2f} |")
    lines += _refresh(results) + [""] + _verdicts(results) + [""]
    return "\n".join(lines)


def _ratios(results: dict) -> list[str]:
    found = []
    for size, figures in results["sizes"].items():
        http = figures["http"]
        if "baseline" not in http:
            continue
        pairs = zip(http["this"]["rounds"], http["baseline"]["rounds"], strict=False)
        cpu = sorted(a["cpu_ms_per_response"] / b["cpu_ms_per_response"] for a, b in pairs)
        found.append(f"- {size} SPs: CPU per response {cpu[len(cpu) // 2]:.2f}x, worker RSS "
                     f"{http['this']['worker_rss_mb'] / http['baseline']['worker_rss_mb']:.2f}x, "
                     f"first SSO {http['this']['first_sso_ms'] / http['baseline']['first_sso_ms']:.3f}x")
    return found


def _refresh(results: dict) -> list[str]:
    for size, figures in results["sizes"].items():
        window = figures.get("during_refresh")
        if window:
            before, during = window["before"], window["during"]
            return ["", f"While `kleidi metadata refresh` replaced the {size}-SP aggregate "
                    f"(command {window['refresh_command_s']:.1f} s; the new SP answered "
                    f"{window['visible_after_s']:.1f} s after the change; errors "
                    f"{window['errors']}): p50/p99/max {before['p50_ms']:.1f}/"
                    f"{before['p99_ms']:.1f}/{before['max_ms']:.1f} ms before, "
                    f"{during['p50_ms']:.1f}/{during['p99_ms']:.1f}/{during['max_ms']:.1f} ms "
                    f"during ({during['count']} responses)."]
    return []


def _verdicts(results: dict) -> list[str]:
    sizes = results["sizes"]
    small, large = sizes[min(sizes, key=int)]["http"]["this"], \
        sizes[max(sizes, key=int)]["http"]["this"]
    ratio = large["cpu_ms_per_response"] / small["cpu_ms_per_response"]
    return ["Targets:",
            f"- CPU per response at {max(sizes, key=int)} SPs / at {min(sizes, key=int)}: "
            f"{ratio:.2f}x (target <= 1.3x)",
            f"- first SSO at {max(sizes, key=int)} SPs: {large['first_sso_ms']:.0f} ms after the "
            f"port opened, {large['launch_to_first_sso_s']:.2f} s from launch (target <= 0.5 s)",
            f"- worker RSS: {small['worker_rss_mb']:.0f} MB at {min(sizes, key=int)} SPs (target "
            f"<= 150), {large['worker_rss_mb']:.0f} MB at {max(sizes, key=int)} (target <= 200)",
            f"- signed responses per CPU-second at {min(sizes, key=int)} SPs: "
            f"{small['responses_per_cpu_second']:.0f} (target >= 450)"]


def _gauge(machine: dict) -> str:
    """The machine's speed during the run (absent from runs before it was measured)."""
    gauge = machine.get("rsa2048_signs_per_cpu_second")
    if not gauge:
        return ""
    return (f" The servers' core signed {gauge[0]} RSA-2048 signatures per CPU-second before the"
            f" run and {gauge[1]} after (two per Response): absolute figures move with it.")
