#!/usr/bin/env bash
# Runs the whole test suite: installs the Python test tools if missing,
# starts moto's server on loopback for the IAM/STS tests, runs `cargo test`,
# then drives the emulator with boto3 as an independent client.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import boto3, moto.server, flask' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi

# Tests never reach AWS: static credentials, no instance metadata, no user profile.
export AWS_ACCESS_KEY_ID=AKIDTESTPREFLIGHT AWS_SECRET_ACCESS_KEY=test-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent/aws-config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL || true

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m moto.server -H 127.0.0.1 -p "$port" >/tmp/rekognition-preflight-moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then break; fi
  sleep 0.1
done
export MOTO_ENDPOINT="http://127.0.0.1:$port"

cargo test

if [ -f tests/emulator_boto3.py ]; then
  cargo build --quiet
  target_dir=${CARGO_TARGET_DIR:-target}
  python3 tests/emulator_boto3.py "$target_dir/debug/rekognition-preflight"
fi
