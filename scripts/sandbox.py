#!/usr/bin/env python3
"""A sandbox that stays: TrainingOrchestrator on this machine, with no AWS account and nothing paid.

  scripts/sandbox.py up [--port 5123] [--training-seconds 30]   start it in the background, print how to use it
  scripts/sandbox.py status                                      is it up, and where
  scripts/sandbox.py down                                        stop it and forget everything it held

`up` starts moto (SQS, DynamoDB, CloudFormation, EventBridge, CloudWatch Logs, SSM, STS), deploys the stand-in stack
(template.yaml's own queue, table and parameters: scripts/stand-in-stack.py), and plays the parts moto cannot:
  - Lambda: the three functions run as `orchestrator invoke` on what Lambda would hand them: the jobs queue's messages
    (Submit, deleting what it did not report failed), SageMaker's state-change events (StateChange), and a schedule
    (Reconcile, every minute here);
  - SageMaker: a stand-in on the next port that speaks its JSON API (Create, Describe, Stop, ListTags, tuning jobs and
    their trials) with its real error shapes. Its jobs take time (Starting, Downloading, Training, Uploading), write
    CloudWatch Logs lines as they train, and can be stopped (Stopping, then Stopped).
Every README command works against it after `source .sandbox/env`. Needs moto_server, python3 with boto3 and PyYAML
(moto and the AWS CLI bring them), and the .NET SDK (./orchestrator builds the CLI on first use).
"""
import argparse
import concurrent.futures
import http.server
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
STACK = "training-orchestrator"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution"
OUTPUT = "s3://example-ml-bucket/models/"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def log(text):
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


# ------------------------------------------------------------------------------------------------ up, status, down
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def running(work):
    pid_file = work / "pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    return pid if alive(pid) else None


def sagemaker_port(args):
    return args.sagemaker_port or args.port + 1


def up(args):
    work = pathlib.Path(args.work)
    if (pid := running(work)) is not None:
        print(f"sandbox already up (process {pid}): source {work}/env to use it; {sys.argv[0]} down to stop it")
        return 0
    work.mkdir(parents=True, exist_ok=True)
    (work / "env").unlink(missing_ok=True)
    cli = args.cli or os.environ.get("ORCHESTRATOR_CLI")
    if not cli:
        # The CLI ./orchestrator runs (it builds it first if a source changed, and says so).
        subprocess.run([str(ROOT / "orchestrator"), "--help"], check=True, stdout=subprocess.DEVNULL)
        cli = str(ROOT / "src/TrainingOrchestrator.Cli/bin/orchestrator/orchestrator.dll")
    with open(work / "sandbox.log", "w") as out:
        # A session of its own: it outlives this command and the terminal's Ctrl-C; `down` stops the whole group.
        process = subprocess.Popen([sys.executable, __file__, "serve", "--port", str(args.port), "--sagemaker-port", str(sagemaker_port(args)),
                                    "--training-seconds", str(args.training_seconds),
                                    "--work", str(work), "--cli", cli], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=ROOT)
    (work / "pid").write_text(str(process.pid))
    deadline = time.time() + 120
    while not (work / "env").exists():
        if process.poll() is not None or time.time() > deadline:
            print(f"sandbox did not come up; its log ({work}/sandbox.log):\n" + (work / "sandbox.log").read_text(), file=sys.stderr)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            return 1
        time.sleep(0.2)
    print(f"""sandbox up: moto on http://127.0.0.1:{args.port}, the SageMaker stand-in on http://127.0.0.1:{sagemaker_port(args)}, stack {STACK} ({REGION})
  Submit, StateChange and Reconcile run in the background as Lambda would (their log: {work}/functions.log)
  jobs train for {args.training_seconds} s (Starting, Downloading, Training, Uploading) and can be stopped
use it:   source {work}/env          # AWS_ENDPOINT_URL, test credentials, AWS_REGION, ORCHESTRATOR_STACK
then:     orchestrator submit samples/linear-regression/train.json --wait
stop it:  {os.path.relpath(__file__)} down""")
    return 0


def status(args):
    work = pathlib.Path(args.work)
    pid = running(work)
    if pid is None:
        print("no sandbox up (scripts/sandbox.py up starts one)")
        return 3
    print(f"sandbox up (process {pid}); source {work}/env to use it\n" + (work / "env").read_text())
    return 0


def down(args):
    work = pathlib.Path(args.work)
    pid = running(work)
    if pid is None:
        print("no sandbox up")
        (work / "env").unlink(missing_ok=True)
        return 0
    os.killpg(pid, signal.SIGTERM)
    deadline = time.time() + 20
    while alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
    for name in ("env", "pid"):
        (work / name).unlink(missing_ok=True)
    print("sandbox down: moto, the functions and the SageMaker stand-in are stopped; what they held is gone")
    return 0


# ------------------------------------------------------------------------------------------------ serve: the sandbox itself
class Functions:
    """Lambda's part: one function invocation at a time, in the order they come (each function is idempotent)."""

    def __init__(self, cli, environment, work):
        self.cli, self.environment, self.work = cli, environment, work
        self.one_at_a_time = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self.log = open(work / "functions.log", "a", buffering=1)

    def invoke(self, function, event):
        """Queues the invocation; the future gives its finished process (exit code, the handler's answer)."""
        return self.one_at_a_time.submit(self._run, function, event)

    def _run(self, function, event):
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.work, delete=False) as file:
            json.dump(event, file)
        try:
            done = subprocess.run(["dotnet", self.cli, "invoke", function, file.name], env=self.environment, capture_output=True, text=True)
        finally:
            os.unlink(file.name)
        self.log.write(f"{time.strftime('%H:%M:%S')} {function} -> {done.stdout.strip() or '(no result)'}\n{done.stderr}")
        return done


def now_ms():
    return int(time.time() * 1000)


class Job:
    def __init__(self, kind, name, body, training_seconds, parent=None):
        self.kind, self.name, self.body, self.parent = kind, name, body, parent
        self.created = now_ms()
        self.training_seconds = training_seconds
        self.status, self.secondary = "InProgress", "Starting"
        self.transitions = [{"Status": "Starting", "StartTime": self.created, "StatusMessage": "Preparing the instances for training"}]
        self.start = self.end = None
        self.modified = self.created
        self.stop_at = None
        self.logged = 0
        self.metrics = []
        self.trials = []
        self.tuned = {}
        self.best = None
        resource = "training-job" if kind == "Training" else "hyper-parameter-tuning-job"
        self.arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource}/{name}"

    @property
    def ended(self):
        return self.status in ("Completed", "Failed", "Stopped")


class SageMaker:
    """The stand-in: SageMaker's JSON API for training and tuning jobs, with time, logs, stops and its error shapes."""

    def __init__(self, functions, logs, training_seconds):
        self.functions, self.logs, self.training_seconds = functions, logs, training_seconds
        self.jobs = {}
        self.due_logs = []
        self.lock = threading.Lock()
        threading.Thread(target=self._tick, daemon=True).start()

    # The API.
    def answer(self, target, body):
        name = next(iter(body.values()), "") if body else ""
        with self.lock:
            if target in ("CreateTrainingJob", "CreateHyperParameterTuningJob"):
                kind = "Training" if target == "CreateTrainingJob" else "Tuning"
                if name in self.jobs:
                    what = "training job" if kind == "Training" else "hyperparameter tuning job"
                    return 400, {"__type": "ResourceInUse", "Message": f"{what.capitalize()} names must be unique within an AWS account and region, and a {what} with this name already exists ({self.jobs[name].arn})"}
                job = Job(kind, name, body, self.training_seconds)
                self.jobs[name] = job
                self._emit(job)
                return 200, {"TrainingJobArn" if kind == "Training" else "HyperParameterTuningJobArn": job.arn}
            if target in ("DescribeTrainingJob", "DescribeHyperParameterTuningJob"):
                job = self.jobs.get(name)
                if job is None or (job.kind == "Training") != (target == "DescribeTrainingJob"):
                    return 400, {"__type": "ValidationException", "Message": f"Requested resource not found: {name}"}
                return 200, self._detail(job, seconds=True)
            if target in ("StopTrainingJob", "StopHyperParameterTuningJob"):
                job = self.jobs.get(name)
                if job is None:
                    return 400, {"__type": "ValidationException", "Message": f"Requested resource not found: {name}"}
                if job.ended or job.status == "Stopping":
                    return 400, {"__type": "ValidationException", "Message": f"The job {name} is not in progress (status {job.status})"}
                self._stop(job)
                return 200, {}
            if target == "ListTags":
                job = self.jobs.get(name.rsplit("/", 1)[-1])
                if job is None:
                    return 400, {"__type": "ValidationException", "Message": f"Requested resource not found: {name}"}
                return 200, {"Tags": job.body.get("Tags", [])}
            if target == "ListTrainingJobsForHyperParameterTuningJob":
                job = self.jobs.get(name)
                if job is None:
                    return 400, {"__type": "ResourceNotFound", "Message": f"Amazon SageMaker can't find a tuning job named {name}"}
                return 200, {"TrainingJobSummaries": [self._summary(t) for t in job.trials]}
        return 400, {"__type": "UnknownOperationException", "Message": f"the sandbox's SageMaker stand-in does not answer {target}"}

    def _stop(self, job):
        job.status, job.stop_at = "Stopping", time.time()
        self._step(job, "Stopping", "Stopping the training job")
        for trial in job.trials:
            if not trial.ended and trial.status != "Stopping":
                self._stop(trial)

    # Time passes.
    def _tick(self):
        while True:
            time.sleep(0.5)
            with self.lock:
                for job in list(self.jobs.values()):
                    if not job.ended:
                        (self._advance_training if job.kind == "Training" else self._advance_tuning)(job)
                due, self.due_logs = self.due_logs, []
            # CloudWatch Logs is written outside the lock: the API's answers do not wait on moto.
            for stream, first, lines in due:
                if first:
                    self.logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
                self.logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                         logEvents=[{"timestamp": now_ms() + i, "message": line} for i, line in enumerate(lines)])

    def _advance_training(self, job):
        age = time.time() - job.created / 1000
        if job.status == "Stopping":
            if time.time() - job.stop_at >= 2:
                job.status, job.end = "Stopped", now_ms()
                self._step(job, "Stopped", "The job was stopped")
            return
        if job.secondary == "Starting" and age >= 2:
            self._step(job, "Downloading", "Downloading input data")
        elif job.secondary == "Downloading" and age >= 4:
            job.start = now_ms()
            self._step(job, "Training", "Training image download completed. Training in progress.")
        elif job.secondary == "Training":
            trained = age - 4
            self._write_logs(job, trained)
            if trained >= job.training_seconds:
                self._step(job, "Uploading", "Uploading generated training model")
        elif job.secondary == "Uploading" and age >= 4 + job.training_seconds + 2:
            job.status, job.end = "Completed", now_ms()
            job.metrics = [{"MetricName": m["Name"], "Value": value, "Timestamp": job.end}
                           for m, value in zip(job.body.get("AlgorithmSpecification", {}).get("MetricDefinitions", []), self._values(job))]
            self._step(job, "Completed", "Training job completed")

    def _values(self, job):
        seeded = random.Random(job.name)
        return [round(seeded.uniform(0.001, 0.1), 4) for _ in range(20)]

    def _write_logs(self, job, trained):
        """Queues the lines due since the last tick, one stream per host, for _tick to write."""
        due = min(max(1, int(job.training_seconds)), int(trained) + 1)
        if due <= job.logged:
            return
        lines = [f"epoch {e} train:mse={round(1 / e, 4)}" for e in range(job.logged + 1, due + 1)]
        first = job.logged == 0
        job.logged = due
        for host in range(1, job.body.get("ResourceConfig", {}).get("InstanceCount", 1) + 1):
            self.due_logs.append((f"{job.name}/algo-{host}-{job.created // 1000}", first, lines))

    def _advance_tuning(self, job):
        config = job.body["HyperParameterTuningJobConfig"]
        limits = config["ResourceLimits"]
        total = min(int(limits["MaxNumberOfTrainingJobs"]), 4)
        parallel = int(limits["MaxParallelTrainingJobs"])
        if job.status == "InProgress":
            while len(job.trials) < total and sum(not t.ended for t in job.trials) < parallel:
                self._start_trial(job, len(job.trials) + 1)
        if all(t.ended for t in job.trials) and (job.status == "Stopping" or len(job.trials) == total):
            done = [t for t in job.trials if t.status == "Completed" and t.metrics]
            objective = config["HyperParameterTuningJobObjective"]
            if done:
                pick = min if objective["Type"] == "Minimize" else max
                best = pick(done, key=lambda t: self._objective(t, objective["MetricName"]))
                job.best = {"TrainingJobName": best.name, "TrainingJobArn": best.arn, "TrainingJobStatus": "Completed",
                            "CreationTime": best.created, "TrainingStartTime": best.start, "TrainingEndTime": best.end,
                            "TunedHyperParameters": best.tuned,
                            "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": objective["MetricName"], "Value": self._objective(best, objective["MetricName"])}}
            job.status, job.end = ("Stopped" if job.status == "Stopping" else "Completed"), now_ms()
            job.modified = job.end
            self._emit(job)

    @staticmethod
    def _objective(trial, metric):
        return next((m["Value"] for m in trial.metrics if m["MetricName"] == metric), float("inf"))

    def _start_trial(self, job, number):
        definition = job.body["TrainingJobDefinition"]
        ranges = job.body["HyperParameterTuningJobConfig"].get("ParameterRanges", {})
        seeded = random.Random(f"{job.name}-{number}")
        tuned = {}
        for r in ranges.get("ContinuousParameterRanges", []) + ranges.get("IntegerParameterRanges", []):
            low, high = float(r["MinValue"]), float(r["MaxValue"])
            value = seeded.uniform(low, high)
            tuned[r["Name"]] = str(int(value)) if r in ranges.get("IntegerParameterRanges", []) else f"{value:.6g}"
        for r in ranges.get("CategoricalParameterRanges", []):
            tuned[r["Name"]] = seeded.choice(r["Values"])
        name = f"{job.name}-{number:03d}-{seeded.getrandbits(32):08x}"
        body = {"TrainingJobName": name, **{k: v for k, v in definition.items() if k != "StaticHyperParameters"},
                "HyperParameters": {**definition.get("StaticHyperParameters", {}), **tuned}}
        trial = Job("Training", name, body, max(2, self.training_seconds // 3), parent=job)
        trial.tuned = tuned
        job.trials.append(trial)
        self.jobs[name] = trial
        self._emit(trial)

    # What SageMaker tells: Describe's answer (times in epoch seconds) and the state-change event (epoch milliseconds).
    def _step(self, job, secondary, message):
        at = now_ms()
        job.transitions[-1]["EndTime"] = at
        job.transitions.append({"Status": secondary, "StartTime": at, "StatusMessage": message})
        job.secondary, job.modified = secondary, at
        self._emit(job)

    def _summary(self, trial):
        summary = {"TrainingJobName": trial.name, "TrainingJobArn": trial.arn, "CreationTime": trial.created / 1000,
                   "TrainingJobStatus": trial.status, "TunedHyperParameters": trial.tuned}
        if trial.end:
            summary["TrainingEndTime"] = trial.end / 1000
        return summary

    def _detail(self, job, seconds):
        time_of = (lambda ms: ms / 1000) if seconds else (lambda ms: str(ms))
        detail = {k: v for k, v in job.body.items() if k != "Tags"}
        if job.kind == "Training":
            detail.update(TrainingJobArn=job.arn, TrainingJobStatus=job.status, SecondaryStatus=job.secondary,
                          CreationTime=time_of(job.created), LastModifiedTime=time_of(job.modified),
                          SecondaryStatusTransitions=[{k: (time_of(v) if k.endswith("Time") else v) for k, v in t.items()} for t in job.transitions])
            if job.parent is not None:
                detail["TuningJobArn"] = job.parent.arn
            if job.start:
                detail["TrainingStartTime"] = time_of(job.start)
            if job.end:
                detail["TrainingEndTime"] = time_of(job.end)
                detail["BillableTimeInSeconds"] = max(1, (job.end - (job.start or job.created)) // 1000)
            if job.status == "Completed":
                detail["ModelArtifacts"] = {"S3ModelArtifacts": f"{job.body['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job.name}/output/model.tar.gz"}
            if job.metrics:
                detail["FinalMetricDataList"] = [{**m, "Timestamp": time_of(m["Timestamp"])} for m in job.metrics]
        else:
            counters = {s: sum(t.status == s for t in job.trials) for s in ("Completed", "InProgress", "Stopped")}
            detail.update(HyperParameterTuningJobArn=job.arn, HyperParameterTuningJobStatus=job.status,
                          CreationTime=time_of(job.created), LastModifiedTime=time_of(job.modified),
                          TrainingJobStatusCounters={**counters, "RetryableError": 0, "NonRetryableError": 0},
                          ObjectiveStatusCounters={"Succeeded": counters["Completed"], "Pending": counters["InProgress"], "Failed": 0})
            if job.end:
                detail["HyperParameterTuningEndTime"] = time_of(job.end)
            if job.best:
                best = dict(job.best)
                for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime"):
                    if best.get(key):
                        best[key] = time_of(best[key])
                detail["BestTrainingJob"] = best
        return detail

    def _emit(self, job):
        detail = self._detail(job, seconds=False)
        detail_type = "SageMaker Training Job State Change" if job.kind == "Training" else "SageMaker HyperParameter Tuning Job State Change"
        event = {"version": "0", "id": f"{job.name}-{job.modified}-{job.status}-{job.secondary}", "detail-type": detail_type,
                 "source": "aws.sagemaker", "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "region": REGION, "resources": [job.arn], "detail": detail}
        self.functions.invoke("StateChange", event)


def serve(args):
    work = pathlib.Path(args.work).resolve()
    endpoint = f"http://127.0.0.1:{args.port}"
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(args.port)], stdout=open(work / "moto.log", "w"), stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: (moto.terminate(), os._exit(0)))
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)
    import boto3  # moto brings it
    aws = lambda service: boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    # "sam deploy", as far as moto goes: template.yaml's queue and table, its parameters, the outputs the CLI reads.
    template = subprocess.run([sys.executable, str(ROOT / "scripts/stand-in-stack.py")], check=True, capture_output=True, text=True).stdout
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(StackName=STACK, TemplateBody=template, Parameters=[
        {"ParameterKey": "ExecutionRoleArn", "ParameterValue": ROLE}, {"ParameterKey": "DefaultOutputUri", "ParameterValue": OUTPUT}])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}
    queue_url, table = outputs["QueueUrl"], outputs["TableName"]
    aws("events").create_event_bus(Name=STACK)
    logs = aws("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)

    environment = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_SAGEMAKER": f"http://127.0.0.1:{sagemaker_port(args)}",
                   "ORCHESTRATOR_ROLE_ARN": ROLE, "ORCHESTRATOR_OUTPUT_URI": OUTPUT, "ORCHESTRATOR_ALLOWED_BUCKETS": "example-ml-bucket",
                   "ORCHESTRATOR_NAME_PREFIX": "to", "ORCHESTRATOR_ALLOW_ROLE_OVERRIDE": "false", "ORCHESTRATOR_TABLE": table,
                   "ORCHESTRATOR_EVENT_BUS": STACK, "ORCHESTRATOR_EVENT_SOURCE": STACK, "ORCHESTRATOR_QUEUE_URL": queue_url,
                   "ORCHESTRATOR_FUNCTION_TIMEOUT_SECONDS": "60", "ORCHESTRATOR_POLICY_PARAMETER": f"/training-orchestrator/{STACK}/policy"}
    functions = Functions(args.cli, environment, work)
    sagemaker = SageMaker(functions, logs, args.training_seconds)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            target = self.headers.get("X-Amz-Target", "").split(".", 1)[-1]
            status, answer = sagemaker.answer(target, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("x-amzn-RequestId", f"sandbox-{now_ms()}")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", sagemaker_port(args)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # The event source mapping: what the queue holds goes to Submit; what it did not report failed is deleted.
    sqs = aws("sqs")

    def poll():
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                  "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                                  "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rsplit('/', 1)[-1]}",
                                  "awsRegion": REGION} for m in messages]}
            done = functions.invoke("Submit", event).result()
            try:
                failed = {f["itemIdentifier"] for f in json.loads(done.stdout).get("batchItemFailures", [])} if done.returncode == 0 else None
            except ValueError:
                failed = None
            if failed is None:
                continue  # no answer: the whole batch comes back, as Lambda treats a failed invocation
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    threading.Thread(target=poll, daemon=True).start()

    def schedule():
        while True:
            time.sleep(60)
            functions.invoke("Reconcile", json.loads((ROOT / "events/scheduled-reconcile.json").read_text()))

    threading.Thread(target=schedule, daemon=True).start()

    (work / "env").write_text(
        f"# scripts/sandbox.py up: the sandbox's endpoints and test credentials (nothing here reaches AWS)\n"
        f"export AWS_ENDPOINT_URL={endpoint} AWS_REGION={REGION} AWS_DEFAULT_REGION={REGION}\n"
        f"export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n"
        f"export ORCHESTRATOR_STACK={STACK}\n")
    log(f"sandbox up: moto {endpoint}, SageMaker stand-in http://127.0.0.1:{sagemaker_port(args)}, stack {STACK}")
    while True:
        time.sleep(3600)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "status", "down", "serve"])
    parser.add_argument("--port", type=int, default=5123, help="moto's port")
    parser.add_argument("--sagemaker-port", type=int, help="the SageMaker stand-in's port (default: moto's + 1)")
    parser.add_argument("--training-seconds", type=int, default=30, help="how long each job trains (a tuning job's trials a third of it)")
    parser.add_argument("--work", default=".sandbox", help="where the sandbox keeps its state, env file and logs")
    parser.add_argument("--cli", help="an orchestrator.dll already built (default: $ORCHESTRATOR_CLI, else built here)")
    args = parser.parse_args()
    return {"up": up, "status": status, "down": down, "serve": serve}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
