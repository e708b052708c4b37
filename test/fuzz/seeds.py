#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, test/fuzz/corpus/<target>/,
from the test fixtures (test/fixtures), the unit tests' vectors (string
literals of test/unit/*.c) and the integration tests' litestream.yml files,
in each target's input format (see the comment at the top of each
fuzz_<target>.c). Files are named by the SHA-1 of their content, so a rerun
adds nothing twice; regression inputs (crash-*, named by hand) are kept.

Usage: test/fuzz/seeds.py   (needs the lz4 command for the LZ4 seeds)
"""
import glob
import hashlib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(SRC, "test", "fixtures")


def c_literals(path):
    """Every run of adjacent C string literals in a file, decoded."""
    text = open(path, encoding="utf-8", errors="surrogateescape").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"(?m)^\s*#.*$", " ", text)
    out, cur, last_end = [], None, None
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
        between = text[last_end:m.start()] if last_end is not None else "x"
        if cur is not None and re.fullmatch(r"\s*", between):
            cur += decode(m.group(1))
        else:
            if cur is not None:
                out.append(cur)
            cur = decode(m.group(1))
        last_end = m.end()
    if cur is not None:
        out.append(cur)
    return out


def decode(s):
    b = bytearray()
    i = 0
    raw = s.encode("utf-8", "surrogateescape")
    simple = {ord("n"): 10, ord("t"): 9, ord("r"): 13, ord("0"): 0,
              ord("\\"): 92, ord('"'): 34, ord("'"): 39, ord("a"): 7,
              ord("b"): 8, ord("f"): 12, ord("v"): 11, ord("?"): 63}
    while i < len(raw):
        c = raw[i]
        if c != 92:
            b.append(c)
            i += 1
            continue
        n = raw[i + 1]
        if n == ord("x"):
            j = i + 2
            while j < len(raw) and chr(raw[j]) in "0123456789abcdefABCDEF":
                j += 1
            b.append(int(raw[i + 2:j], 16) & 0xFF)
            i = j
        elif ord("0") <= n <= ord("7"):
            j = i + 1
            while j < len(raw) and j < i + 4 and ord("0") <= raw[j] <= ord("7"):
                j += 1
            b.append(int(raw[i + 1:j], 8) & 0xFF)
            i = j
        else:
            b.append(simple.get(n, n))
            i += 2
    return bytes(b)


def heredocs(path, marker):
    """Bodies of the here-documents of a shell script holding marker."""
    text = open(path, "rb").read()
    out = []
    for m in re.finditer(rb"<<-?\s*'?\"?(\w+)'?\"?[^\n]*\n(.*?)\n\s*\1\n",
                         text, flags=re.S):
        if marker in m.group(2):
            out.append(m.group(2) + b"\n")
    return out


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def unit(name):
    return c_literals(os.path.join(SRC, "test", "unit", name))


def litestream_config():
    docs = [s for s in unit("test_litestream_config.c") if b"dbs:" in s]
    for p in glob.glob(os.path.join(SRC, "test", "integration", "*.sh")):
        docs += heredocs(p, b"dbs:")
    for d in docs:
        write("litestream_config", b"\x01" + d)
        write("litestream_config", b"\x00" + d)
    for s in unit("test_litestream_config.c"):
        if re.match(rb"^(s3|file|gcs|abs|sftp|gs|webdav|nats)://", s) or \
                s.startswith(b"/") and len(s) < 80:
            write("litestream_config", b"\x03" + s)


def discover():
    lits = unit("test_discover.c")
    schemas = [s for s in lits if b"datasource" in s or b"generator" in s]
    schemas.append(open(os.path.join(FIX, "discover", "realistic.prisma"),
                        "rb").read())
    pkgs = [s for s in lits if s.lstrip().startswith(b"{")]
    pkgs.append(b'{"name": "app", "prisma": {"schema": "prisma/schema.prisma",'
                b' "seed": "node prisma/seed.js"}}')
    urls = [s for s in lits if s.startswith(b"file:") or
            s.startswith(b"sqlite:")]
    for i, schema in enumerate(schemas):
        schema = schema.replace(b"%s", b'url = env("DATABASE_URL")')
        pkg = pkgs[i % len(pkgs)]
        url = urls[i % len(urls)] if urls else b"file:./dev.db"
        for flags in (0x01 | 0x08, 0x02 | 0x10, 0x04 | 0x01 | 0x10 | 0x40,
                      0x20 | 0x01, 0x80 | 0x02):
            write("discover", bytes([flags]) + b"\0".join(
                [pkg, schema, url, schemas[(i + 1) % len(schemas)],
                 b"data/app.db", b"dbs:\n  - path: /data/app.db\n"
                 b"    replicas:\n      - url: s3://bkt/app\n"]))


XML = [
    (0, b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns='
        b'"http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>'
        b'db/generations/</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys>'
        b'<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>'
        b'<CommonPrefixes><Prefix>db/generations/0123456789abcdef/</Prefix>'
        b'</CommonPrefixes></ListBucketResult>'),
    (0, b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>'
        b'bkt</Name><IsTruncated>true</IsTruncated><NextMarker>db/generations'
        b'/0123456789abcdef/wal/00000001_00000000.wal.lz4</NextMarker>'
        b'<Contents><Key>db/generations/0123456789abcdef/snapshots/00000000.'
        b'snapshot.lz4</Key><LastModified>2024-05-01T10:00:00.123Z'
        b'</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;'
        b'</ETag><Size>1048576</Size><StorageClass>STANDARD</StorageClass>'
        b'</Contents><Contents><Key>db/generations/0123456789abcdef/wal/'
        b'00000001_00000000.wal.lz4</Key><LastModified>2024-05-01T10:00:01Z'
        b'</LastModified><Size>4152</Size></Contents></ListBucketResult>'),
    (1, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket'
        b'</Code><Message>The specified bucket does not exist</Message>'
        b'<BucketName>bkt</BucketName><RequestId>4442587FB7D0A2F9</RequestId>'
        b'</Error>'),
    (1, b'<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region'
        b' \'us-east-1\' is wrong; expecting \'eu-west-1\'</Message><Region>'
        b'eu-west-1</Region><Endpoint>bkt.s3.eu-west-1.amazonaws.com'
        b'</Endpoint></Error>'),
    (2, b'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns='
        b'"http://s3.amazonaws.com/doc/2006-03-01/">eu-central-1'
        b'</LocationConstraint>'),
    (2, b'<LocationConstraint/>'),
]


def s3_xml():
    for what, body in XML:
        for chunk in (0, 1, 7, 64):
            write("s3_xml", bytes([what, chunk]) + body)


def s3_http():
    lists = [b for w, b in XML if w == 0]
    errors = [b for w, b in XML if w == 1]
    final = (b'<ListBucketResult><IsTruncated>false</IsTruncated><Contents>'
             b'<Key>db/generations/0123456789abcdef/wal/00000002_00000000.wal'
             b'.lz4</Key><Size>10</Size></Contents><CommonPrefixes><Prefix>'
             b'db/generations/0123456789abcdef/</Prefix></CommonPrefixes>'
             b'</ListBucketResult>')
    # (a page's status byte indexes statuses[] modulo 12: 0x0c is 200
    # without being the NUL that separates pages)
    ok, s404, s403, s500 = b"\x0c", b"\x04", b"\x05", b"\x06"
    for pages in ([ok + lists[0]], [ok + lists[1], ok + final],
                  [s500 + errors[0], ok + lists[1], ok + final],
                  [s404 + errors[0]], [s403 + errors[1]],
                  [ok + lists[1]],  # truncated, the same page forever
                  [ok + lists[1], ok + lists[1], ok + final]):
        write("s3_http", b"\0".join([b"\x02"] + pages))
    # Downloads: the object, then what each request gets (what, where the
    # connection drops: 0 (written 8) whole object or asked range, 1 range,
    # 2 500, 3 404, 4 416, 5 changed object, 6 range from the wrong offset).
    obj = open(os.path.join(FIX, "discover", "realistic.prisma"), "rb").read()
    obj = obj.replace(b"\0", b"\x01")
    for hows in ([b"\x08"], [b"\x08\x01\x10", b"\x01"],
                 [b"\x08\x01\x10", b"\x08"], [b"\x02", b"\x01"],
                 [b"\x03"], [b"\x08\x02\x02", b"\x05"],
                 [b"\x08\x02\x02", b"\x06"], [b"\x08\x02\x02", b"\x04"],
                 [b"\x01\x01\x01", b"\x01\x01\x80", b"\x01"]):
        write("s3_http", b"\0".join([b"\x01", obj] + hows))


def lz4stream():
    data = []
    for p in sorted(glob.glob(os.path.join(FIX, "**", "*"), recursive=True)):
        if os.path.isfile(p):
            data.append(open(p, "rb").read())
    data.append(b"")
    data.append(bytes(range(256)) * 300)  # several 64 KiB blocks
    opts = [["-B4"], ["-B4", "-BD"], ["-B5", "--content-size"],
            ["-B4", "-BX", "--no-frame-crc"], ["-B7", "-9"]]
    for i, d in enumerate(data):
        for j, o in enumerate(opts):
            if (i + j) % 3:
                continue
            frame = subprocess.run(["lz4", "-c", "-q"] + o, input=d,
                                   stdout=subprocess.PIPE, check=True).stdout
            write("lz4stream", bytes([0, (i * 37 + j) & 0xFF]) + frame)
            # A segment written twice, the second write cut short: a
            # complete frame, then the start of another (litestream reads
            # the first; the restore allows it, seed bit 6).
            write("lz4stream", bytes([0, 0x40 | (j & 0x3F)]) + frame +
                  frame[:len(frame) // 2])
        for how in (0x00, 0x07, 0x3C, 0x55):
            write("lz4stream", bytes([1, i & 0xFF, how]) + d[:8192])
        write("lz4stream", bytes([2, i & 0xFF, 0x18, 40, 0, 0xFF]) + d[:4096])


def replica():
    g1, g2 = "0123456789abcdef", "fedcba9876543210"

    def objs(gen, snaps, wals):
        lines = []
        for idx, t in snaps:
            lines.append("db/generations/%s/snapshots/%08x.snapshot.lz4\t%d"
                         "\t%d" % (gen, idx, 1000 + idx, t))
        for idx, off, t in wals:
            lines.append("db/generations/%s/wal/%08x_%08x.wal.lz4\t%d\t%d"
                         % (gen, idx, off, 100 + off, t))
        return lines

    cases = [
        ("db", "- - -", objs(g1, [(0, 10000)], [(0, 0, 11000),
                                                 (0, 4152, 12000),
                                                 (1, 0, 13000)])),
        ("db", "%s 1 -" % g1, objs(g1, [(0, 10000), (3, 40000)],
                                   [(0, 0, 11000), (1, 0, 12000),
                                    (2, 0, 13000), (3, 0, 41000),
                                    (3, 4152, 42000)])
         + objs(g2, [(0, 20000)], [(0, 0, 30000)])),
        ("/db", "- - 12500000000", objs(g1, [(1, 10000)],
                                        [(1, 0, 11000), (1, 4152, 12000)])),
        ("a//b/./c/", "- 5 -", objs(g2, [(4, 10000)], [(3, 0, 9000)])),
        ("", "- - -", objs(g1, [(2, 10000)], [(1, 4152, 11000),
                                               (2, 0, 12000)])),
    ]
    for path, target, lines in cases:
        if path == "a//b/./c/":
            lines = [ln.replace("db/", "a/b/c/", 1) for ln in lines]
        elif path == "":
            lines = [ln.replace("db/", "", 1) for ln in lines]
        elif path == "/db":
            lines = ["/" + ln for ln in lines]
        write("replica", ("%s\n%s\n%s\n" % (path, target, "\n".join(lines)))
              .encode())


def migrate_sql():
    base = os.path.join(FIX, "prisma", "blog", "migrations")
    lock = open(os.path.join(base, "migration_lock.toml"), "rb").read()
    sqls = [open(p, "rb").read() for p in
            sorted(glob.glob(os.path.join(base, "*", "migration.sql")))]
    names = [b"20240101000000_init", b"20240102000000_add_published",
             b"20240101000000_Init"]
    write("migrate_sql", b"\x01" + b"\0".join([lock] + sqls + names))
    write("migrate_sql", b"\x00" + b"\0".join([b""] + sqls[:2] + [b""] +
                                                names))
    write("migrate_sql", b"\x01" + b"\0".join(
        [b'provider = "postgresql"'] + sqls + names))
    write("migrate_sql", b"\x01" + b"\0".join(
        [lock, b"\xef\xbb\xbfCREATE TABLE a(x);\r\n-- bad \xff utf-8\r\n",
         b"CREATE TABLE b(y); INSERT INTO nope VALUES(1);", b"SELECT 1;",
         b"a-b", b"a_b", b"A b"]))
    for s in unit("test_prisma_migrate.c"):
        if re.search(rb"(?i)\b(create|insert|select)\b", s):
            write("migrate_sql", b"\x01" + b"\0".join(
                [lock, s, b"", b"", names[0], names[1], names[2]]))


def sigv4():
    host = b"examplebucket.s3.amazonaws.com"
    secret = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = b"AQoDYXdzEJr//session+token/example=="
    empty = b""
    cases = [
        [b"GET", host, b"/test.txt", b"us-east-1", empty, empty, secret,
         empty, b"hRange:bytes=0-9"],
        [b"PUT", host, b"/test$file.text", b"us-east-1", empty,
         b"44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
         secret, empty, b"hx-amz-storage-class:REDUCED_REDUNDANCY",
         b"hDate:Fri, 24 May 2013 00:00:00 GMT"],
        [b"GET", host, b"/", b"us-east-1", empty, empty, secret, empty,
         b"qlifecycle="],
        [b"GET", host, b"/", b"us-east-1", empty, empty, secret, token,
         b"qmax-keys=2", b"qprefix=J", b"qdelimiter=/",
         b"qmarker=db/generations/0123/wal/00000001_00000000.wal.lz4"],
        [b"GET", b"127.0.0.1:9000", b"/bkt/a b/c%d/\xc3\xa9", b"auto", b"s3",
         b"UNSIGNED-PAYLOAD", secret, empty, b"hRange:  bytes=10-   20 "],
    ]
    for c in cases:
        write("sigv4", b"\0".join(c))


def litefs():
    lits = unit("test_litefs.c")
    lines = [l for l in lits if b" - " in l]
    ymls = [l for l in lits if b"fuse" in l or b"lease" in l]
    infos = [l for l in lits if l.startswith(b"{")]
    exps = [l for l in lits if b"$" in l]
    n = max(len(lines), len(ymls), len(infos), len(exps))
    for i in range(n):
        parts = [lst[i % len(lst)] for lst in (lines, ymls, infos, exps)]
        write("litefs", b"\0".join(parts))


# LTX files and their restore plan (litestream 0.5) get a target when the LTX
# module is in lib/: fuzz_ltx.c, with a def ltx() here writing seeds from its
# unit tests' files (README, "Fuzzing").


def main():
    for f in (litestream_config, discover, s3_xml, s3_http, lz4stream,
              replica, migrate_sql, sigv4, litefs):
        f()
    for d in sorted(glob.glob(os.path.join(HERE, "corpus", "*"))):
        print("%-20s %d inputs" % (os.path.basename(d), len(os.listdir(d))))


if __name__ == "__main__":
    sys.exit(main())
