#!/bin/sh
# Gives each service its SCRAM-SHA-512 login, its password read from /run/secrets (never on
# a command line that outlives this job). Setting a password again replaces it: rotation.
#   BOOTSTRAP_SERVERS, ADMIN_CONFIG, KAFKA_BIN: as for acls.sh
set -eu
: "${BOOTSTRAP_SERVERS:?name the brokers}" "${ADMIN_CONFIG:?name the admin client properties}"
for user in accounts intake casefile notify; do
  password=$(cat "/run/secrets/kafka-${user}-password")
  "${KAFKA_BIN:-/opt/kafka/bin}/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP_SERVERS" \
    --command-config "$ADMIN_CONFIG" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]"
done
