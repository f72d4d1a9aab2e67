"""Bare YAMNet inference, the reference of bench/audiotag.sh: decodes the same file with the
ffmpeg CLI, computes the log-mel patches with numpy (torchaudio's MelSpectrogram formulas, as
the model's own package does), and times ONNX Runtime's Python API on every patch, one
thread. Prints the patch count and the seconds spent in `session.run` alone.

    python yamnet_reference.py MODEL_DIR AUDIO_FILE [--default-graph]
"""
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

model_dir, audio = sys.argv[1], sys.argv[2]
default_graph = "--default-graph" in sys.argv

pcm = subprocess.run(
    ["ffmpeg", "-v", "error", "-i", audio, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
    check=True, capture_output=True).stdout
wave = np.frombuffer(pcm, dtype=np.float32)

# torchaudio MelSpectrogram(n_fft=512, win_length=400, hop=160, f 125..7500, 64 HTK bands,
# power 1, center False, norm None); the window is centred in the 512-point frame.
n_fft, win, hop = 512, 400, 160
window = np.zeros(n_fft, dtype=np.float32)
window[56:456] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
mel = lambda f: 2595 * np.log10(1 + f / 700)
corners = 700 * (10 ** (np.linspace(mel(125), mel(7500), 66) / 2595) - 1)
freqs = np.linspace(0, 8000, n_fft // 2 + 1)
slopes = corners[None, :] - freqs[:, None]
down = -slopes[:, :-2] / np.diff(corners)[:-1]
up = slopes[:, 2:] / np.diff(corners)[1:]
bank = np.maximum(0, np.minimum(down, up)).astype(np.float32)

path = f"{model_dir}/model.onnx"
inits = {i.name: numpy_helper.to_array(i).item()
         for i in onnx.load(path, load_external_data=False).graph.initializer
         if i.name in ("audio_scale", "audio_zero_point")}
opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
if not default_graph:
    opts.add_session_config_entry("session.disable_quant_qdq", "1")
session = ort.InferenceSession(path, opts)

# Patches are made in blocks so memory stays small on long files; only `run` is timed.
spent, patches, block = 0.0, 0, 48 * 160 * 2000
for start in range(0, max(len(wave) - n_fft, 0) + 1, block):
    seg = wave[start:start + block + 96 * hop + n_fft]
    n = 1 + (len(seg) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop][:n] * window
    logmel = np.log(np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32) @ bank + 1e-6)
    q = np.clip(np.round(logmel / inits["audio_scale"] + inits["audio_zero_point"]), 0, 255)
    q = q.astype(np.uint8)
    for p in range(0, min(n - 96, block // hop - 1) + 1, 48):
        x = q[p:p + 96][None, None]
        t = time.perf_counter()
        session.run(None, {"audio": x})
        spent += time.perf_counter() - t
        patches += 1
print(patches, f"{spent:.2f}")
