"""Script-mode training with Python's standard library only: the SM_* variables say where everything is.

Fits y = a*x + b by least squares to the CSV lines "x,y" of the `training` channel, prints the metrics the request's
metric definitions read, and writes the model to SM_MODEL_DIR. Hyperparameters arrive as command-line arguments
(SM_USER_ARGS), as SageMaker's training toolkit passes them.
"""
import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args, _ = parser.parse_known_args()

    channel = os.environ["SM_CHANNEL_TRAINING"]
    points = []
    for name in sorted(os.listdir(channel)):
        with open(os.path.join(channel, name)) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("x,"):
                    continue
                x, y = line.split(",")
                points.append((float(x) * args.scale, float(y)))
    if len(points) < 2:
        with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
            f.write("need at least 2 points in the training channel")
        sys.exit(1)

    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    a = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / sxx
    b = mean_y - a * mean_x
    mse = sum((a * p[0] + b - p[1]) ** 2 for p in points) / n
    print(f"points={n} slope={a:.6f} intercept={b:.6f}")
    print(f"train:mse={mse:.6g}")

    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
        json.dump({"slope": a, "intercept": b}, f)


if __name__ == "__main__":
    main()
