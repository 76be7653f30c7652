#!/usr/bin/python3
"""Reads one RFC 5322 message (argv[1]) with Python's email package (default policy) and prints
what the Swift tests check, as JSON: headers, the MIME tree, the parts' decoded contents,
the defects the parser found and the longest raw line in octets."""
import email
import email.policy
import email.utils
import gzip
import json
import sys

raw = open(sys.argv[1], "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)


def tree(part):
    if part.is_multipart():
        return {"type": part.get_content_type(), "parts": [tree(p) for p in part.iter_parts()]}
    return {"type": part.get_content_type()}


defects = [str(d) for part in msg.walk() for d in part.defects]
out = {
    "headers": {k: str(msg[k]) for k in ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Auto-Submitted"] if msg[k] is not None},
    "to": [a.addr_spec for a in msg["To"].addresses] if msg["To"] is not None else [],
    "date": email.utils.parsedate_to_datetime(msg["Date"]).isoformat() if msg["Date"] else None,
    "tree": tree(msg),
    "defects": defects,
    "maxLine": max(len(line) for line in raw.split(b"\n")),
    "ascii": all(b < 0x80 for b in raw),
}
body = msg.get_body(preferencelist=("plain",))
out["text"] = body.get_content() if body is not None else None
html = msg.get_body(preferencelist=("html",))
out["html"] = html.get_content() if html is not None else None
attachments = []
for part in msg.iter_attachments():
    data = part.get_payload(decode=True)
    if part.get_content_type() == "application/gzip":
        data = gzip.decompress(data)
    attachments.append({"type": part.get_content_type(), "filename": part.get_filename(), "content": data.decode("utf-8"),
                        "disposition": part.get_content_disposition()})
out["attachments"] = attachments
out["leaves"] = [{"type": p.get_content_type(), "disposition": p.get_content_disposition(), "content": p.get_content()}
                 for p in msg.walk() if not p.is_multipart() and p.get_content_maintype() == "text"]
json.dump(out, sys.stdout)
