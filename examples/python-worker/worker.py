"""A Simple Scheduler worker in Python with pika: the whole protocol (docs/workers.md).

Usage: worker.py JOB=COMMAND [JOB=COMMAND ...]; the broker URL comes from
SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING. Each run action starts COMMAND with /bin/sh;
its exit status becomes completed or failed; a cancel action stops it (SIGTERM to its
process group) and reports cancelled. Heartbeats go out every 5 s while a command runs.
"""
import json, os, signal, subprocess, sys, time
import pika

URL = os.environ.get("SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING", "amqp://guest:guest@localhost:5672/")
commands = dict(argument.split("=", 1) for argument in sys.argv[1:])
connection = pika.BlockingConnection(pika.URLParameters(URL))
channel = connection.channel()
running = {}  # runId -> [jobName, attempt, process, cancelled]


def publish(job, run_id, key, extra):
    body = json.dumps({"jobName": job, "runId": run_id, **extra}, separators=(",", ":"))
    channel.basic_publish(f"scheduler.job.{job}", key, body,
                          pika.BasicProperties(content_type="application/json", delivery_mode=2))


def on_action(ch, method, _properties, body):
    action = json.loads(body)
    job, run_id, attempt = action["jobName"], action["runId"], action.get("attempt")
    if action["action"] == "run" and run_id not in running:  # a second delivery is a duplicate
        env = dict(os.environ, SIMPLE_SCHEDULER_JOB_NAME=job, SIMPLE_SCHEDULER_RUN_ID=run_id)
        process = subprocess.Popen(commands[job], shell=True, env=env, start_new_session=True)
        running[run_id] = [job, attempt, process, False]
        publish(job, run_id, "status", {"status": "running", "attempt": attempt})
    elif action["action"] == "cancel" and run_id in running:
        running[run_id][3] = True
        os.killpg(running[run_id][2].pid, signal.SIGTERM)
    elif action["action"] == "cancel":  # not running here: say so, so the run can end
        publish(job, run_id, "status", {"status": "cancelled", "attempt": attempt})
    ch.basic_ack(method.delivery_tag)


for job in commands:  # the same topology the scheduler declares (SPEC §2)
    exchange = f"scheduler.job.{job}"
    channel.exchange_declare(exchange, "topic", durable=True)
    for key in ("action", "status", "heartbeat"):
        channel.queue_declare(f"{exchange}.{key}", durable=True)
        channel.queue_bind(f"{exchange}.{key}", exchange, key)
    channel.basic_consume(f"{exchange}.action", on_action)

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
last_heartbeat = time.monotonic()
while not stopping:
    connection.process_data_events(time_limit=0.2)
    for run_id, (job, attempt, process, cancelled) in list(running.items()):
        if process.poll() is not None:
            status = "cancelled" if cancelled else "completed" if process.returncode == 0 else "failed"
            publish(job, run_id, "status", {"status": status, "attempt": attempt})
            del running[run_id]
    if time.monotonic() - last_heartbeat > 5:
        for run_id, (job, attempt, _, _) in running.items():
            publish(job, run_id, "heartbeat", {"attempt": attempt})
        last_heartbeat = time.monotonic()
connection.close()
