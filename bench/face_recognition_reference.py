"""The reference side of bench/face.sh: the `face_recognition` package (dlib's HOG detector,
5-point aligner and ResNet embedding, the same model files as airscope) on the same 720p
frames, with the same settings: no upsampling, one embedding per face, no jitter.

    python face_recognition_reference.py RUNS FRAME...

Prints, per frame, the median milliseconds of RUNS detections (after one warm-up), the faces
found, and the median milliseconds per face of embedding them all.
"""
import statistics
import sys
import time

import face_recognition


def timed(runs, f):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    runs = int(sys.argv[1])
    for path in sys.argv[2:]:
        image = face_recognition.load_image_file(path)
        faces = face_recognition.face_locations(image, number_of_times_to_upsample=0)
        detect = timed(runs, lambda: face_recognition.face_locations(image, number_of_times_to_upsample=0))
        embed = 0.0
        if faces:
            face_recognition.face_encodings(image, faces, model="small")
            embed = timed(runs, lambda: face_recognition.face_encodings(image, faces, model="small")) / len(faces)
        print(f"{path} {detect:.1f} {len(faces)} {embed:.1f}")


main()
