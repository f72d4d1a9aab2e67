"""Write a text PDF of N pages (default 40), a few lines each, to stdout; no dependencies.
Used by bench/fleet.sh as its small real job."""
import sys

pages = int(sys.argv[1]) if len(sys.argv) > 1 else 40
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        ("<< /Type /Pages /Kids [%s] /Count %d >>"
         % (" ".join("%d 0 R" % (4 + 2 * i) for i in range(pages)), pages)).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
for i in range(pages):
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
