"""Build ``common-passwords.bloom`` from plain-text password lists (one password a line).

Usage::

    python idp/data/build_common_passwords.py OUTPUT LIST_OR_FOLDER...

A folder is read recursively (every ``*.txt`` inside). See README.md beside this file for where
the shipped filter comes from. The filter format is read by :mod:`idp.credentials.password_policy`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from idp.credentials.password_policy import BloomFilter  # noqa: E402

FALSE_POSITIVE_RATE = 0.001


def read_passwords(sources: list[str]) -> set[bytes]:
    passwords: set[bytes] = set()
    for source in map(Path, sources):
        files = sorted(source.rglob("*.txt")) if source.is_dir() else [source]
        for path in files:
            passwords.update(line for line in path.read_bytes().split(b"\n") if line)
    return passwords


def main(output: str, *sources: str) -> None:
    passwords = read_passwords(list(sources))
    count = len(passwords)
    bits = math.ceil(-count * math.log(FALSE_POSITIVE_RATE) / math.log(2) ** 2)
    hashes = max(1, round(bits / count * math.log(2)))
    bloom = BloomFilter.empty(bits, hashes, count)
    for password in passwords:
        bloom.add(password)
    Path(output).write_bytes(bloom.to_bytes())
    print(f"{count} passwords, {bits} bits ({bits // 8 // 1024} KiB), {hashes} hashes")


if __name__ == "__main__":
    main(*sys.argv[1:])
