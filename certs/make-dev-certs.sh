#!/usr/bin/env bash
# The OpenSSL equivalent of `kmipd dev-certs`: a CA, a server and one client certificate.
# Usage: certs/make-dev-certs.sh OUTPUT_DIR [CLIENT_NAME]
set -euo pipefail
out=${1:?usage: $0 OUTPUT_DIR [CLIENT_NAME]}
client=${2:-client}
mkdir -p "$out" && cd "$out"
umask 077
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "/O=kmipd development/CN=kmipd development CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() {  # name cn eku [san]
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=kmipd development/CN=$2" \
    -keyout "$1.key" -out "$1.csr"
  printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=%s\n%s' "$3" "${4:-}" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
issue server localhost serverAuth "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
issue "$client" "$client" clientAuth
echo "certificates in $(pwd)"
