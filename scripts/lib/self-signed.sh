# Sourced by the TLS scripts. make_self_signed DIR: a self-signed EC certificate for localhost and
# 127.0.0.1, made by the JDK's keytool, as the PEM files the server reads (DIR/fullchain.pem and
# DIR/privkey.pem, unencrypted PKCS #8, converted by openssl).
make_self_signed() {
  local dir="$1"
  rm -f "$dir/server.p12"
  keytool -genkeypair -alias server -keyalg EC -dname CN=localhost -ext SAN=dns:localhost,ip:127.0.0.1 \
    -validity 2 -storetype PKCS12 -keystore "$dir/server.p12" -storepass changeit -keypass changeit >/dev/null 2>&1
  openssl pkcs12 -in "$dir/server.p12" -passin pass:changeit -nokeys -out "$dir/fullchain.pem" 2>/dev/null
  openssl pkcs12 -in "$dir/server.p12" -passin pass:changeit -nocerts -nodes 2>/dev/null \
    | openssl pkcs8 -topk8 -nocrypt -out "$dir/privkey.pem"
}
