"""The floor under bench/ocr.sh's frame targets: each PP-OCRv4 model run bare on the input sizes
a 720p video frame gives (the detector at 640x352, a recognised line at 320x48 and at 640x48),
with ONNX Runtime's Python API on one thread, as airscope runs them. Prints one line per model:
its input (width x height), then the median and the best of RUNS timed runs in ms, after one
warm-up run.

    python ppocr_bare.py MODEL_DIR RUNS
"""
import sys
import time

import numpy as np
import onnxruntime as ort

model_dir, runs = sys.argv[1], int(sys.argv[2])
opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
for name, shape in (("ch_PP-OCRv4_det_infer.onnx", (1, 3, 352, 640)),
                    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
                    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 640))):
    session = ort.InferenceSession(f"{model_dir}/{name}", opts)
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).random(shape, dtype=np.float32)}
    session.run(None, feed)
    times = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"{name.split('_')[2]} {shape[3]}x{shape[2]} {times[len(times) // 2]:.1f} {times[0]:.1f}")
