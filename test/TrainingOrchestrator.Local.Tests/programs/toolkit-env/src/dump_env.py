"""Writes what the job was given to output/data: its SM_* variables, its arguments, its environment's other
names, the address each host's name resolves to.

When the training toolkit (sagemaker_training) can be imported, also what the toolkit itself computes for the same
/opt/ml (Environment().to_env_vars()): that is how reference/toolkit-env.algo-2.json was made.
"""
import json
import os
import socket
import sys

out = os.environ["SM_OUTPUT_DATA_DIR"]
with open(os.path.join(out, "ours.json"), "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("SM_")}, f, indent=1, sort_keys=True)
with open(os.path.join(out, "argv.json"), "w") as f:
    json.dump(sys.argv[1:], f)
with open(os.path.join(out, "names.json"), "w") as f:
    json.dump(sorted(k for k in os.environ if not k.startswith("SM_")), f)
with open(os.path.join(out, "hosts.json"), "w") as f:
    json.dump({h: socket.gethostbyname(h) for h in json.loads(os.environ["SM_HOSTS"])}, f)
try:
    from sagemaker_training import environment
except ImportError:
    sys.exit(0)
with open(os.path.join(out, "toolkit.json"), "w") as f:
    json.dump(environment.Environment().to_env_vars(), f, indent=1, sort_keys=True)
