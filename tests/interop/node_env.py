"""Node.js packages for the interop tests and the benchmark, installed from the npm registry.

The packages in ``package.json`` (exact versions) are installed into a folder under the
system's temporary directory, keyed by the file's hash, and reused by later runs. Nothing
is ever installed into the repository.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


class NodeUnavailable(RuntimeError):
    """``node`` or ``npm`` is missing, or the install failed; the message says which."""


def workdir(scripts=()) -> Path:
    """A folder holding node_modules for package.json, installing it on first use.

    The ``.mjs`` scripts of this folder, and ``scripts``, are copied next to node_modules.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeUnavailable("node and npm are needed (install Node.js >= 20)")
    manifest = (HERE / "package.json").read_bytes()
    target = Path(tempfile.gettempdir()) / f"kleidi-npm-{hashlib.sha256(manifest).hexdigest()[:12]}"
    target.mkdir(exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test runs share one install
        if not (target / "node_modules" / ".kleidi-complete").exists():
            (target / "package.json").write_bytes(manifest)
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=target, capture_output=True, text=True, timeout=600, check=False)
            if result.returncode != 0:
                raise NodeUnavailable(f"npm install failed: {result.stderr[-2000:]}")
            (target / "node_modules" / ".kleidi-complete").touch()
    for script in [*HERE.glob("*.mjs"), *map(Path, scripts)]:
        shutil.copy(script, target / script.name)  # ESM resolves packages next to the script
    return target


def node() -> str:
    return shutil.which("node") or "node"
