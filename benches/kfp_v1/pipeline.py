"""The same programs as kfpl's benchmarks, in the kfp v1 Python DSL, for the
side-by-side timing in docs/performance.md.

    python pipeline.py mnist OUT.yaml      # the tutorial's pipeline
    python pipeline.py N OUT.yaml          # a generated N-step layered DAG (as kfpl::generate)

Needs `pip install kfp==1.8.22` in a virtual environment; not a test dependency.
"""
import sys

import kfp
from kfp import dsl
from kubernetes.client import V1EnvVar

WIDTH = 10


def mnist():
    @dsl.pipeline(name="pipeline to run jobs", description="shows how to run pipeline jobs.")
    def pipeline(learning_rate="0.01", dropout="0.9", model_version="1",
                 commit="f097575656f927d86d99dd64931042e1a9003cb2"):
        vol = dsl.PipelineVolume(pvc="user-susan")
        base = "https://code.aliyun.com/xiaozhou/tensorflow-sample-code/raw/master/data/"
        prepare = dsl.ContainerOp(
            name="prepare-data", image="byrnedo/alpine-curl", command=["sh", "-c"],
            arguments=["mkdir -p /training/dataset/mnist && cd /training/dataset/mnist && "
                       + " && ".join(f"curl -O {base}{f}" for f in [
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                           "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])],
            pvolumes={"/training": vol},
            file_outputs={"output": "/tmp/outputs/output"})
        train = dsl.ContainerOp(
            name="train", image="tensorflow/tensorflow:1.11.0-gpu-py3", command=["sh", "-c"],
            arguments=[f"echo {prepare.outputs['output']}; python code/tensorflow-sample-code/tfjob/docker/mnist/main.py "
                       f"--max_steps 500 --data_dir /training/dataset/mnist --log_dir /training/output/mnist "
                       f"--learning_rate {learning_rate} --dropout {dropout}"],
            pvolumes={"/training": vol},
            file_outputs={"output": "/tmp/outputs/output"},
            output_artifact_paths={"mlpipeline-metrics": "/mlpipeline-metrics.json"})
        train.container.add_env_variable(V1EnvVar(name="GIT_SYNC_REV", value=str(commit)))
        train.set_gpu_limit(1)
        export = dsl.ContainerOp(
            name="export-model", image="tensorflow/tensorflow:1.11.0-py3", command=["sh", "-c"],
            arguments=[f"echo {train.outputs['output']}; python code/tensorflow-sample-code/tfjob/docker/mnist/export_model.py "
                       f"--model_version={model_version} --checkpoint_path=/training/output/mnist /training/output/models"],
            pvolumes={"/training": vol})
        export.container.add_env_variable(V1EnvVar(name="GIT_SYNC_REV", value=str(commit)))
    return pipeline


def generated(steps):
    @dsl.pipeline(name="generated pipeline", description="a layered DAG for benchmarks")
    def pipeline(learning_rate="0.01", epochs="10", dataset="s3://bucket/data.csv",
                 commit="0123456789abcdef0123456789abcdef01234567"):
        data = dsl.PipelineVolume(pvc="shared-data")
        models = dsl.PipelineVolume(pvc="models")
        ops = []
        for i in range(steps):
            layer = i // WIDTH
            inputs = ""
            if layer > 0:
                prev = (layer - 1) * WIDTH
                a, b = prev + i % WIDTH, prev + (i * 7 + 3) % WIDTH
                inputs = f" --from {ops[a].outputs['model']}"
                if b != a:
                    inputs += f" --also {ops[b].outputs['output']}"
            op = dsl.ContainerOp(
                name=f"s{i}", image="python:3.12-slim", command=["sh", "-c"],
                arguments=[f"python train.py --data /data --source {dataset} --lr {learning_rate} "
                           f"--epochs {epochs}{inputs} && echo /models/s{i} > /tmp/outputs/model"],
                pvolumes={"/data": data, "/models": models},
                file_outputs={"model": "/tmp/outputs/model", "output": "/tmp/outputs/output"})
            if i % 3 == 0:
                op.container.add_env_variable(V1EnvVar(name="GIT_SYNC_REV", value=str(commit)))
            if i % 7 == 0:
                op.set_gpu_limit(1)
                op.set_memory_limit("4Gi")
                op.set_cpu_limit("2")
            if i % 5 == 0:
                op.set_retry(2)
                op.set_timeout(1800)
            ops.append(op)
    return pipeline


if __name__ == "__main__":
    which, out = sys.argv[1], sys.argv[2]
    func = mnist() if which == "mnist" else generated(int(which))
    kfp.compiler.Compiler().compile(func, out)
