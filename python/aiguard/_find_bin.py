"""Where pip put the aiguard binary."""

import os
import sys
import sysconfig


def find_aiguard_bin() -> str:
    """The path of the aiguard binary this package installed.

    pip puts it in the scripts directory of the environment (or of the user
    scheme for `pip install --user`).
    """
    exe = "aiguard" + (sysconfig.get_config_var("EXE") or "")
    path = os.path.join(sysconfig.get_path("scripts"), exe)
    if os.path.isfile(path):
        return path
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    elif sys.platform == "darwin" and getattr(sys, "_framework", None):
        user_scheme = "osx_framework_user"
    else:
        user_scheme = "posix_user"
    user_path = os.path.join(sysconfig.get_path("scripts", scheme=user_scheme), exe)
    if os.path.isfile(user_path):
        return user_path
    raise FileNotFoundError(
        f"the aiguard binary is not installed (looked for {path} and {user_path}); "
        "reinstall with `pip install --force-reinstall aiguard`"
    )
