#!/usr/bin/env bash
# Regenerates the EXAMPLE TLS files in this folder with the openssl CLI (OpenSSL 3.x) — the
# same steps an operator takes by hand for a test setup. NOT FOR PRODUCTION: these private keys
# are published. A real installation trusts its parties' PKIoverheid (or own) CA and never
# holds a client's private key.
#
#   certs-example/tls/regen.sh                 everything: CA, server, clients, empty CRL
#   certs-example/tls/regen.sh crl [PARTY...]  only a new CRL, revoking the named parties' certificates
#
# Writes (all PEM; keys are unencrypted PKCS#8, ECDSA P-256):
#   ca-NOT-FOR-PRODUCTION.crt/.key       self-signed example CA (20 years)
#   server-NOT-FOR-PRODUCTION.crt/.key   meldpunt's server certificate: SAN localhost, 127.0.0.1 (10 years)
#   <party>-NOT-FOR-PRODUCTION.crt/.key  client certificates of the example parties (10 years)
#   crl-NOT-FOR-PRODUCTION.pem           CRL signed by the example CA (empty unless `crl PARTY…`)
#   FINGERPRINTS                         SHA-256 fingerprint and OIN of every client certificate
set -euo pipefail
cd "$(dirname "$0")"
umask 077

MARK="NOT-FOR-PRODUCTION"
ORG="meldpunt example - NOT FOR PRODUCTION"
CA_DAYS=7300
LEAF_DAYS=3650
CRL_DAYS=3650   # long only so the examples never go stale in CI; real CRLs live days, not years

# party  OIN (subject serialNumber; "-" = none, the party is mapped by fingerprint)
# The OINs are fictitious (prefix 00000003 = KvK number, 00000001 = RSIN; 9999… is no real
# registration): a real OIN is looked up in the COR, the Logius register.
PARTIES=(
    "woonstad -"
    "vitens 00000003999999990000"
    "GM0505 00000001999999999000"
)

T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT

# One OpenSSL configuration for everything: subject encoding, the extensions of each kind of
# certificate, and a minimal `openssl ca` section used only to sign CRLs.
cat > "$T/openssl.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]

[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash

[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ca]
default_ca = example_ca
[example_ca]
database = $T/index.txt
crlnumber = $T/crlnumber
certificate = $PWD/ca-$MARK.crt
private_key = $PWD/ca-$MARK.key
default_md = sha256
default_crl_days = $CRL_DAYS
unique_subject = no
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
CNF

# A positive 128-bit serial number (first hex digit 1–7: no sign padding).
serial() {
    local s
    s="$(openssl rand -hex 16)"
    printf '0x%x%s' $(( 0x${s:0:1} % 7 + 1 )) "${s:1}"
}

fingerprint() { # cert → lowercase hex SHA-256 of the DER, no colons
    openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f'
}

# issue NAME EXTENSIONS SUBJECT: a new P-256 key and a certificate signed by the example CA.
issue() {
    local name="$1" ext="$2" subj="$3"
    openssl req -new -config "$T/openssl.cnf" -utf8 -subj "$subj" \
        -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
        -keyout "$name-$MARK.key" -out "$T/$name.csr" 2>/dev/null
    openssl x509 -req -in "$T/$name.csr" -CA "ca-$MARK.crt" -CAkey "ca-$MARK.key" \
        -set_serial "$(serial)" -days "$LEAF_DAYS" -sha256 \
        -extfile "$T/openssl.cnf" -extensions "$ext" -out "$name-$MARK.crt" 2>/dev/null
    openssl verify -x509_strict -CAfile "ca-$MARK.crt" "$name-$MARK.crt" >/dev/null
}

# crl [PARTY...]: a CRL from the example CA revoking the named parties' current certificates.
# The CRL number is the time in nanoseconds, so each new CRL has a higher number than the last.
crl() {
    : > "$T/index.txt"
    printf '%X\n' "$(date +%s%N)" | sed 's/^\(.\(..\)*\)$/0\1/' > "$T/crlnumber"
    local party
    for party in "$@"; do
        [ -f "$party-$MARK.crt" ] || { echo "no certificate $party-$MARK.crt" >&2; exit 1; }
        openssl ca -config "$T/openssl.cnf" -revoke "$party-$MARK.crt" -crl_reason keyCompromise 2>/dev/null
    done
    openssl ca -config "$T/openssl.cnf" -gencrl -out "crl-$MARK.pem" 2>/dev/null
    chmod 644 "crl-$MARK.pem"
    openssl crl -in "crl-$MARK.pem" -noout -CAfile "ca-$MARK.crt" 2>/dev/null
    echo "crl-$MARK.pem: $(openssl crl -in "crl-$MARK.pem" -noout -crlnumber), revoked: ${*:-none}"
}

if [ "${1:-}" = crl ]; then
    shift
    crl "$@"
    exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [crl [PARTY...]]" >&2; exit 2; }

# The CA.
openssl req -x509 -new -config "$T/openssl.cnf" -utf8 \
    -subj "/C=NL/O=$ORG/CN=meldpunt example CA - NOT FOR PRODUCTION" \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "ca-$MARK.key" -out "ca-$MARK.crt" \
    -set_serial "$(serial)" -days "$CA_DAYS" -sha256 -extensions v3_ca 2>/dev/null

# meldpunt's server certificate.
issue server v3_server "/C=NL/O=$ORG/CN=localhost"

# The parties' client certificates. With an OIN, it goes in the subject serialNumber, where
# PKIoverheid certificates carry it.
: > FINGERPRINTS.new
{
    echo "# SHA-256 fingerprints (of the DER certificate) of the EXAMPLE client certificates."
    echo "# NOT FOR PRODUCTION. Written by regen.sh; a party maps by fingerprint or by OIN."
    echo "# party     fingerprint                                                       oin"
} >> FINGERPRINTS.new
for entry in "${PARTIES[@]}"; do
    read -r party oin <<< "$entry"
    subj="/C=NL/O=$ORG"
    [ "$oin" = - ] || subj="$subj/serialNumber=$oin"
    issue "$party" v3_client "$subj/CN=$party"
    printf '%-10s  %s  %s\n' "$party" "$(fingerprint "$party-$MARK.crt")" "$oin" >> FINGERPRINTS.new
done

crl
chmod 644 ./*-"$MARK".crt FINGERPRINTS.new
chmod 600 ./*-"$MARK".key
mv FINGERPRINTS.new FINGERPRINTS

echo "server-$MARK.crt: $(fingerprint "server-$MARK.crt")"
cat FINGERPRINTS
