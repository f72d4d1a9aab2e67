"""The reference of bench/logo.sh: the logo search of OpenCV's feature-matching tutorial
(opencv-python), the same ORB settings and references as airscope: each reference matched to
the frame by brute force (BFMatcher, Hamming, k=2), Lowe's ratio 0.8, and a RANSAC homography
for references with at least 10 good matches. Prints, per frame, the median milliseconds of
RUNS searches and the references found (>= 13 inliers, airscope's default threshold).

    python bench/logo_reference.py RUNS GALLERY_DIR FRAME...
"""
import os
import statistics
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)
runs, gallery, frames = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
orb_ref = cv2.ORB_create(1000, 1.2, 8, 31, 0, 2, cv2.ORB_HARRIS_SCORE, 31, 20)
orb = cv2.ORB_create(1500, 1.2, 8, 31, 0, 2, cv2.ORB_HARRIS_SCORE, 31, 20)
refs = []
for name in sorted(os.listdir(gallery)):
    img = cv2.imread(os.path.join(gallery, name), cv2.IMREAD_GRAYSCALE)
    s = 480 / max(img.shape)
    img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_LINEAR)
    kp, des = orb_ref.detectAndCompute(img, None)
    refs.append((name, np.float32([k.pt for k in kp]), des))
matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


def search(grey):
    kp, des = orb.detectAndCompute(grey, None)
    pts = np.float32([k.pt for k in kp])
    found = []
    for name, rpts, rdes in refs:
        good = [m[0] for m in matcher.knnMatch(rdes, des, k=2)
                if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
        if len(good) < 10:
            continue
        src = rpts[[m.queryIdx for m in good]]
        dst = pts[[m.trainIdx for m in good]]
        h, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.12)
        if h is not None and int(mask.sum()) >= 13:
            found.append(name)
    return found


for f in frames:
    grey = cv2.cvtColor(cv2.imread(f), cv2.COLOR_BGR2GRAY)
    found = search(grey)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        search(grey)
        times.append((time.perf_counter() - start) * 1000)
    print(f, f"{statistics.median(times):.1f}", ",".join(found) or "-")
