"""The reference side of bench/face.sh for a whole video: what a `face_recognition` user
writes for "who is in this video": FFmpeg samples one 720p frame per second, and every frame's
faces are found (no upsampling) and embedded (5-point aligner).

    python face_recognition_video.py VIDEO

Prints the seconds taken, the frames analysed and the faces embedded.
"""
import subprocess
import sys
import time

import face_recognition
import numpy as np

W, H = 1280, 720


def main():
    start = time.perf_counter()
    ffmpeg = subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-i", sys.argv[1], "-vf", f"fps=1,scale={W}:{H}",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        stdout=subprocess.PIPE,
    )
    frames = faces = 0
    while True:
        raw = ffmpeg.stdout.read(W * H * 3)
        if len(raw) < W * H * 3:
            break
        image = np.frombuffer(raw, np.uint8).reshape(H, W, 3)
        found = face_recognition.face_locations(image, number_of_times_to_upsample=0)
        faces += len(face_recognition.face_encodings(image, found, model="small"))
        frames += 1
    ffmpeg.wait()
    print(f"{time.perf_counter() - start:.1f} {frames} {faces}")


main()
