#!/bin/sh
# Makes testdata/django.txt: Django's PBKDF2 hashes written by passlib
# (Debian's python3-passlib 1.7.4), an implementation independent of this
# package. Each line: password, a tab, the hash. Run from passhash/:
#   sh testdata/django.sh > testdata/django.txt
/usr/bin/python3 - <<'PY'
from passlib.hash import django_pbkdf2_sha256 as s256, django_pbkdf2_sha1 as s1
rows = [
    ("password", s256.using(rounds=1000, salt="seasalt").hash("password")),
    ("correct horse battery staple", s256.using(rounds=29000).hash("correct horse battery staple")),
    ("ünïcödé pässwörd", s256.using(rounds=12345, salt="abcDEF123456").hash("ünïcödé pässwörd")),
    ("", s256.using(rounds=1, salt="x").hash("")),
    ("password", s1.using(rounds=1000, salt="seasalt").hash("password")),
    ("another one", s1.using(rounds=20000).hash("another one")),
]
for pw, h in rows:
    print(pw + "\t" + h)
PY
