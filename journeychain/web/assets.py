"""The pages' browser libraries: Chart.js (the dashboard's charts) and ethers (EIP-712 signing
with the link's key when the browser has no wallet), installed from the npm lock file and never
fetched from a CDN. `make setup` copies them into the package's build (`python -m
journeychain.web.assets`), so that an installed wheel serves them without Node."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from journeychain.errors import ToolchainError

PACKAGE = Path(__file__).resolve().parent
#: where the copies live in the package (git-ignored; shipped in the wheel)
BUILT = PACKAGE.parent / "_build" / "web"
#: each file the pages load, and where npm installs it
VENDOR = {
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "ethers.umd.min.js": "ethers/dist/ethers.umd.min.js",
}
STATIC = PACKAGE / "static"


def vendor_file(name: str) -> Path | None:
    """The served copy of a vendored library: the package's build, else the checkout's
    node_modules; None for a name that is not one of them."""
    if name not in VENDOR:
        return None
    built = BUILT / name
    if built.is_file():
        return built
    checkout = PACKAGE.parent.parent / "node_modules" / VENDOR[name]
    return checkout if checkout.is_file() else None


def copy_vendor(node_modules: Path) -> list[Path]:
    """Copies the libraries from `node_modules` into the package's build."""
    BUILT.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, source in VENDOR.items():
        path = node_modules / source
        if not path.is_file():
            raise ToolchainError(f"{path} is missing: run `npm ci` (the lock file installs it)")
        shutil.copyfile(path, BUILT / name)
        copied.append(BUILT / name)
    return copied


def main() -> None:
    try:
        copied = copy_vendor(PACKAGE.parent.parent / "node_modules")
    except ToolchainError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    print(f"web pages' libraries: {len(copied)} files in {BUILT}")


if __name__ == "__main__":
    main()
