"""Target T4: scan log files for personal data that escaped masking.

`python -m hongfeng.core.logscan FILE…` prints every line holding a valid mainland ID number
(check digit verified) or a mobile number, and exits 1 if there is any.
"""

import re
import sys
from pathlib import Path

from hongfeng.core.idnumber import is_valid_id_number

# Bounded by anything but ASCII letters and digits: a run of digits inside a hex request id
# (…ca18131845364ed4…) is not a phone number, while one next to Chinese text or punctuation is.
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")


def scan(lines) -> list[tuple[int, str]]:
    hits = []
    for number, line in enumerate(lines, start=1):
        if _MOBILE.search(line) or any(
            is_valid_id_number(m.group(0)) for m in _ID_CANDIDATE.finditer(line)
        ):
            hits.append((number, line.rstrip()[:200]))
    return hits


def main(paths: list[str]) -> int:
    total_lines, found = 0, 0
    for path in paths:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
        total_lines += len(lines)
        for number, line in scan(lines):
            found += 1
            print(f"{path}:{number}: {line}")
    print(f"scanned {total_lines} log lines in {len(paths)} file(s): {found} with personal data")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
