"""`python -m aiguard ...`: run the aiguard binary installed with this package."""

import os
import sys

from aiguard._find_bin import find_aiguard_bin


def main() -> int:
    binary = os.fsdecode(find_aiguard_bin())
    if sys.platform == "win32":
        import subprocess

        return subprocess.run([binary, *sys.argv[1:]]).returncode
    os.execv(binary, [binary, *sys.argv[1:]])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
