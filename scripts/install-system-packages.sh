#!/usr/bin/env bash
# Debian packages the services and their tests use (OCR engine, PDF rasteriser, a real IMAP server).
set -euo pipefail
needed=()
command -v tesseract >/dev/null 2>&1 || needed+=(tesseract-ocr tesseract-ocr-eng)
command -v pdftoppm >/dev/null 2>&1 || needed+=(poppler-utils)
[ -x /usr/sbin/dovecot ] || needed+=(dovecot-imapd)
if [ ${#needed[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "install-system-packages: ${needed[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
# dovecot is started by the tests on their own ports, never as a system service.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true; fi
