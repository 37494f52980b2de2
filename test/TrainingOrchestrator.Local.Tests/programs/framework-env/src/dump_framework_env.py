"""Writes to output/data what a framework image's training module would set up for this host before the script.

ours.json: the variables this job was given that a framework module sets (ours, when the toolkits are not importable).
When the training toolkits can be imported (sagemaker_training, sagemaker_pytorch_container,
sagemaker_tensorflow_container), modules.json: what their own functions compute for the same /opt/ml. That is how
reference/framework-env.algo-N.json were made (see reference/README.md).
"""
import json
import os
import sys

FRAMEWORK_VARIABLES = ["MASTER_ADDR", "MASTER_PORT", "NCCL_SOCKET_IFNAME", "NCCL_IB_DISABLE", "NCCL_DEBUG", "SM_DLC_TORCH_VERSION",
                       "NCCL_PROTO", "TF_CONFIG", "S3_REGION", "S3_USE_HTTPS", "TF_CPP_MIN_LOG_LEVEL"]

out = os.environ["SM_OUTPUT_DATA_DIR"]
with open(os.path.join(out, "ours.json"), "w") as f:
    json.dump({k: os.environ[k] for k in FRAMEWORK_VARIABLES if k in os.environ}, f, indent=1, sort_keys=True)
try:
    from sagemaker_training import environment, mpi, torch_distributed
    from sagemaker_pytorch_container import training as pytorch
    from sagemaker_tensorflow_container import s3_utils, training as tensorflow
except ImportError:
    sys.exit(0)

env = environment.Environment()
before = dict(os.environ)
for name in FRAMEWORK_VARIABLES:
    os.environ.pop(name, None)


def set_now():
    return {k: os.environ[k] for k in FRAMEWORK_VARIABLES if k in os.environ}


# The PyTorch module's train(), up to the script: NCCL, the master, the image's torch version.
pytorch._set_nccl_environment(env.network_interface_name)
pytorch._set_distributed_environment(env)
pytorch._set_torch_version_environment()
pytorch_variables = set_now()
# torch_distributed: its runner's setup and command (one process per host: no GPU here).
torchrun = torch_distributed.TorchDistributedRunner("train.py", ["--epochs", "3"], {}, 1, env.master_hostname, env.hosts, env.current_host,
                                                    env.network_interface_name, env.current_instance_type)
torchrun_command = torchrun._create_command()
torchrun_variables = set_now()
for name in FRAMEWORK_VARIABLES:
    os.environ.pop(name, None)
# MPI on this host alone, as local mode runs it: two processes, custom options, one variable of the job.
mpirun_command = mpi.MasterRunner("train.py", ["--epochs", "3"], {"SM_CURRENT_HOST": env.current_host}, 2, env.current_host, [env.current_host],
                                  "--NCCL_DEBUG WARN -x FOO=1", env.network_interface_name, instance_type=env.current_instance_type)._create_command()
# The TensorFlow module: s3_utils.configure without an s3:// model_dir, and TF_CONFIG for MultiWorkerMirroredStrategy over
# every host (the distribution hosts of a homogeneous cluster).
s3_utils.configure(None, os.environ.get("SAGEMAKER_REGION"))
tensorflow_variables = set_now()
tensorflow_variables["TF_CONFIG"] = json.dumps(tensorflow._build_tf_config_for_mwms(env.hosts, env.current_host))

with open(os.path.join(out, "modules.json"), "w") as f:
    json.dump({"pytorch": pytorch_variables, "torch_distributed": {"command": torchrun_command, "variables": torchrun_variables},
               "mpi": {"command": mpirun_command}, "tensorflow": tensorflow_variables}, f, indent=1, sort_keys=True)
