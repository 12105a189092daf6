#!/usr/bin/env python3
"""Drive the Rekognition emulator with boto3, a client written independently
of the Rust SDK, to check that the wire format is what AWS clients expect.

Usage: emulator_boto3.py [BINARY] [WORLD]
  BINARY  the rekognition-preflight executable (default: $REKOGNITION_PREFLIGHT_BIN)
  WORLD   the world file (default: tests/fixtures/emulator/ready-role.json)

The script starts `BINARY emulate --world WORLD --port 0`, reads the
endpoint from its first stdout line, runs the checks against
http://127.0.0.1:PORT only, stops the emulator and prints
"N passed, M failed". It exits 1 when a check failed and 2 when the
emulator could not be started.
"""

import os
import pathlib
import queue
import subprocess
import sys
import threading
import time

TRAIN = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106"
TEST = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858107"
STARTUP_TIMEOUT_SECONDS = 20
SPLIT_TIMEOUT_SECONDS = 30


def start_emulator(binary, world):
    """Start the emulator and return (process, endpoint)."""
    command = [binary, "emulate", "--world", str(world), "--port", "0", "--update-delay", "0.5", "--seed", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)

    # readline() blocks, so a thread reads the line and the timeout applies here.
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=STARTUP_TIMEOUT_SECONDS)
    except queue.Empty:
        stop_emulator(process)
        raise RuntimeError(f"the emulator printed no endpoint within {STARTUP_TIMEOUT_SECONDS} s")

    prefix = "listening on "
    if not line.startswith(prefix):
        stop_emulator(process)
        raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
    endpoint = line[len(prefix):].strip()
    if not endpoint.startswith("http://127.0.0.1:"):
        stop_emulator(process)
        raise RuntimeError(f"the emulator is not on loopback: {endpoint}")
    return process, endpoint


def stop_emulator(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_client(endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "rekognition",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=10),
    )


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")


def stats(client, arn):
    description = client.describe_dataset(DatasetArn=arn)["DatasetDescription"]
    numbers = description["DatasetStats"]
    return numbers["TotalEntries"], numbers["LabeledEntries"], numbers["TotalLabels"], numbers["ErrorEntries"]


def count_entries(client, **filters):
    paginator = client.get_paginator("list_dataset_entries")
    return sum(len(page["DatasetEntries"]) for page in paginator.paginate(**filters))


def wait_for_split(client):
    """Poll both datasets until neither is UPDATE_IN_PROGRESS; returns their statuses."""
    deadline = time.monotonic() + SPLIT_TIMEOUT_SECONDS
    while True:
        statuses = [client.describe_dataset(DatasetArn=arn)["DatasetDescription"]["Status"] for arn in (TRAIN, TEST)]
        if "UPDATE_IN_PROGRESS" not in statuses or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def run_checks(client, checks):
    projects = client.describe_projects()["ProjectDescriptions"]
    checks.check("describe_projects lists one project", len(projects) == 1, projects)
    dataset_arns = [dataset["DatasetArn"] for dataset in projects[0]["Datasets"]] if projects else []
    checks.check("the project lists train and test", dataset_arns == [TRAIN, TEST], dataset_arns)

    train = client.describe_dataset(DatasetArn=TRAIN)["DatasetDescription"]
    checks.check("describe_dataset status", train["Status"] == "CREATE_COMPLETE", train["Status"])
    checks.check("timestamps parse as datetimes", train["CreationTimestamp"].year == 2023, train["CreationTimestamp"])
    checks.check("train stats before the split", stats(client, TRAIN) == (120, 120, 3, 0), stats(client, TRAIN))

    checks.check("list_dataset_entries pages through 120", count_entries(client, DatasetArn=TRAIN, MaxResults=50) == 120)
    dent = count_entries(client, DatasetArn=TRAIN, ContainsLabels=["dent"])
    checks.check("ContainsLabels filter", dent == 40, dent)

    labels = client.list_dataset_labels(DatasetArn=TRAIN)["DatasetLabelDescriptions"]
    counts = {label["LabelName"]: label["LabelStats"]["EntryCount"] for label in labels}
    checks.check("list_dataset_labels counts", counts == {"scratch": 40, "dent": 40, "ok": 40}, counts)

    client.distribute_dataset_entries(Datasets=[{"Arn": TRAIN}, {"Arn": TEST}])
    first = client.describe_dataset(DatasetArn=TEST)["DatasetDescription"]["Status"]
    checks.check("split starts in progress", first == "UPDATE_IN_PROGRESS", first)

    statuses = wait_for_split(client)
    checks.check("split completes", statuses == ["UPDATE_COMPLETE", "UPDATE_COMPLETE"], statuses)
    checks.check("train keeps 96", stats(client, TRAIN) == (96, 96, 3, 0), stats(client, TRAIN))
    checks.check("test gets 24", stats(client, TEST) == (24, 24, 3, 0), stats(client, TEST))
    checks.check("test lists 24 entries", count_entries(client, DatasetArn=TEST) == 24)

    from botocore.exceptions import ClientError

    try:
        client.distribute_dataset_entries(Datasets=[{"Arn": TRAIN}, {"Arn": TEST}])
        code = None
    except ClientError as error:
        code = error.response["Error"]["Code"]
    checks.check("second split is rejected", code == "InvalidParameterException", code)


def main(argv):
    binary = argv[1] if len(argv) > 1 else os.environ.get("REKOGNITION_PREFLIGHT_BIN")
    if not binary:
        print("usage: emulator_boto3.py BINARY [WORLD] (or set REKOGNITION_PREFLIGHT_BIN)", file=sys.stderr)
        return 2
    default_world = pathlib.Path(__file__).resolve().parent / "fixtures" / "emulator" / "ready-role.json"
    world = pathlib.Path(argv[2]) if len(argv) > 2 else default_world

    # Keep botocore away from the instance metadata service and any profile.
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_REKOGNITION"):
        os.environ.pop(name, None)

    try:
        process, endpoint = start_emulator(binary, world)
    except (OSError, RuntimeError) as error:
        print(f"error: could not start the emulator: {error}", file=sys.stderr)
        return 2

    checks = Checks()
    try:
        run_checks(make_client(endpoint), checks)
    except Exception as error:  # a crash in the middle counts as one failed check
        checks.check("checks ran to the end", False, repr(error))
    finally:
        stop_emulator(process)

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
