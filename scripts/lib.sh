# Shared by scripts/demo and scripts/test: find Python ≥ 3.12, make .venv, install the project.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "需要 root 权限来执行：$*" >&2; return 1; fi
}

installed() {
  # dpkg also knows packages it has only unpacked ("install ok unpacked", a broken install):
  # only "install ok installed" counts.
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

apt_update() {
  # `apt-get update` takes the package lists' lock, which DPkg::Lock::Timeout does not cover:
  # retry while another apt holds it, fail at once on any other error.
  local out
  for _ in $(seq 60); do
    if out=$(as_root apt-get "$@" update -qq 2>&1); then return 0; fi
    case "$out" in
      *"Could not get lock"*|*"is held by process"*) echo "==> 另一个安装程序正在使用 apt，等待中…"; sleep 10 ;;
      *) echo "$out" >&2; return 1 ;;
    esac
  done
  echo "$out" >&2; return 1
}

apt_install() {
  # Install Debian/Ubuntu packages that are missing; a no-op when all are present. Another
  # apt-get or unattended upgrade may hold the dpkg lock: wait for it (up to 10 minutes).
  local missing=()
  for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "请先安装系统软件包：${missing[*]}" >&2; return 1
  fi
  local wait=(-o DPkg::Lock::Timeout=600)
  echo "==> 安装系统软件包：${missing[*]}（若另一个安装程序正在运行，会等待它结束，最多 10 分钟）"
  apt_update "${wait[@]}"
  DEBIAN_FRONTEND=noninteractive as_root apt-get "${wait[@]}" install -y -qq "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do
    installed "$pkg" || { echo "系统软件包 $pkg 未能安装完成，请检查 apt 的输出。" >&2; return 1; }
  done
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
