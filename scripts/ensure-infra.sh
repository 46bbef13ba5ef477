#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ are running on this machine (start them if not) and wait for both.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2 tries=${3:-120}
  for _ in $(seq "$tries"); do
    if port_open "$port"; then return 0; fi
    sleep 1
  done
  echo "ensure-infra: $name did not come up on port $port" >&2
  return 1
}

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    echo "ensure-infra: starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  else
    echo "ensure-infra: PostgreSQL is not installed; install it (apt-get install postgresql)" >&2
    exit 1
  fi
fi
wait_port 5432 PostgreSQL

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    echo "ensure-infra: starting RabbitMQ"
    rabbitmq-server -detached || true
  else
    echo "ensure-infra: RabbitMQ is not installed; install it (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
fi
wait_port 5672 RabbitMQ
for _ in $(seq 60); do
  if rabbitmqctl -q await_startup --timeout 30 >/dev/null 2>&1; then break; fi
  sleep 1
done
echo "ensure-infra: PostgreSQL and RabbitMQ are up"
