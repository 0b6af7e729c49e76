# Shared by scripts/demo and scripts/test: find Python ≥ 3.12, make .venv, install the project.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "需要 root 权限来执行：$*" >&2; return 1; fi
}

apt_install() {
  # Install Debian/Ubuntu packages that are missing; a no-op when all are present.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "请先安装系统软件包：${missing[*]}" >&2; return 1
  fi
  echo "==> 安装系统软件包：${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python() {
  # $PYTHON wins; then python3.12/3.13/3.14 on PATH (pyenv shims included); then python3.
  local candidates=("${PYTHON:-}" python3.12 python3.13 python3.14 python3)
  for py in "${candidates[@]}"; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "需要 Python 3.12 或更高版本（可设置 PYTHON=/path/to/python3.12）。" >&2
  return 1
}

ensure_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py="$(find_python)"
    if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
      apt_install python3-venv
    fi
    echo "==> 用 $("$py" --version) 创建虚拟环境 .venv"
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  echo "==> 安装 hongfeng${extras:+[$extras]}"
  "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}"
}
