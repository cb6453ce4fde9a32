#!/bin/sh
# Starts one broker of the compose stack: server.properties plus this broker's identity,
# storage formatted on first start (KRaft), then Kafka in the foreground.
set -eu
: "${NODE_ID:?}" "${CLUSTER_ID:?}"
config=/tmp/server.properties
{
  cat /etc/casetracker/kafka/server.properties
  echo "node.id=${NODE_ID}"
  echo "advertised.listeners=BROKER://kafka-${NODE_ID}:9092,CLIENT://kafka-${NODE_ID}:9094"
  echo "ssl.keystore.location=/run/secrets/kafka-${NODE_ID}.pem"
} > "$config"
/opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$config" \
  --ignore-formatted
exec /opt/kafka/bin/kafka-server-start.sh "$config"
