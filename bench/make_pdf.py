"""Write a PDF of N pages (default 40) to stdout; no dependencies. Without a JPEG, each page
has a few lines of text (bench/fleet.sh's small real job); with JPEG W H, each page is that
scan (W x H pixels at 150 DPI) with no text layer (bench/ocr.sh's scanned document).

    make_pdf.py [N] [JPEG W H]
"""
import sys

pages = int(sys.argv[1]) if len(sys.argv) > 1 else 40
scan = sys.argv[2:5]
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        ("<< /Type /Pages /Kids [%s] /Count %d >>"
         % (" ".join("%d 0 R" % (4 + 2 * i) for i in range(pages)), pages)).encode()]
if scan:
    jpeg, w, h = open(scan[0], "rb").read(), int(scan[1]), int(scan[2])
    objs.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
                % (w, h, len(jpeg), jpeg))
    pw, ph = w * 72 / 150, h * 72 / 150
else:
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
for i in range(pages):
    if scan:
        objs.append(("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources "
                     "<< /XObject << /Im1 3 0 R >> >> /Contents %d 0 R >>" % (pw, ph, 5 + 2 * i)).encode())
        content = ("q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q" % (pw, ph)).encode()
    else:
        objs.append(("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                     "<< /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)).encode())
        lines = " ".join("(Page %d, line %d: the archive holds broadcast footage.) Tj 0 -16 Td"
                         % (i + 1, n + 1) for n in range(30))
        content = ("BT /F1 11 Tf 72 740 Td %s ET" % lines).encode()
    objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
out = bytearray(b"%PDF-1.4\n")
offsets = []
for n, body in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for off in offsets:
    out += b"%010d 00000 n \n" % off
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
sys.stdout.buffer.write(out)
