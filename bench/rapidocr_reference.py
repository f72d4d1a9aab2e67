"""RapidOCR, the reference of bench/ocr.sh: the `rapidocr-onnxruntime` package with its own
config (the same PP-OCRv4 ONNX files airscope fetches), ONNX Runtime on one thread. For each
picture it prints the median milliseconds of RUNS reads (after one warm-up) and the lines read.

    python rapidocr_reference.py RUNS IMAGE...
"""
import statistics
import sys
import time

from rapidocr_onnxruntime import RapidOCR

runs = int(sys.argv[1])
engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
for path in sys.argv[2:]:
    result, _ = engine(path)
    lines = len(result or [])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        engine(path)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{path} {statistics.median(times):.1f} {lines}")
