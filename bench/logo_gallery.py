"""A logo gallery of N reference images for bench/logo.sh: the four real logos of the tests
(the cookie box, OpenCV's Linux, Windows and OpenCV logos) and, to make up N, crops of the
other fixture pictures (200 to 400 pixels square, at seeded places; crops too plain for
enrolment are skipped), written as PNG files 000.png... into OUT.

    python bench/logo_gallery.py N OUT PICTURE...
"""
import os
import random
import sys

import cv2
import numpy as np
from PIL import Image

n, out, pictures = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
real = [p for p in pictures if os.path.basename(p) in
        ("box.png", "linuxlogo.jpg", "windowslogo.jpg", "opencv-logo.png")]
others = [p for p in pictures if p not in real]
rng = random.Random(7)
orb = cv2.ORB_create(1000)


def textured(img):
    """Far more keypoints than enrolment's minimum (40) at the reference size."""
    s = 480 / max(img.size)
    grey = np.asarray(img.convert("L").resize((round(img.width * s), round(img.height * s))))
    return len(orb.detect(grey, None)) >= 150


made = 0
for p in real:
    Image.open(p).convert("RGB").save(os.path.join(out, f"{made:03d}.png"))
    made += 1
tries = 0
while made < n:
    tries += 1
    img = Image.open(others[tries % len(others)]).convert("RGB")
    side = min(rng.randint(200, 400), img.width, img.height)
    x, y = rng.randint(0, img.width - side), rng.randint(0, img.height - side)
    crop = img.crop((x, y, x + side, y + side))
    if textured(crop):
        crop.save(os.path.join(out, f"{made:03d}.png"))
        made += 1
