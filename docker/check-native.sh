#!/usr/bin/env bash
# The docker/compose.yaml topology without containers, for machines with no Docker engine:
# two kino nodes with docker/kino.env's settings (hosts replaced by local ports), PostgreSQL and
# s3s-fs from scripts/backends.sh, and nginx (apt-get install nginx) with docker/nginx.conf
# (upstream hosts replaced). An SDK upload through nginx, then originals and a transformation
# through both nodes, probed.
#
#   scripts/backends.sh docker/check-native.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KINO="${KINO_BIN:-$HERE/target/debug/kino}"
PYTHON="${KINO_PYTHON:-$HERE/target/sdk-venv/bin/python}"
export CLIP="${CLIP:-$HERE/../shared/media/landscape-720p-h264-aac51-bbb.mp4}"
WORK="$(mktemp -d)"
cd "$WORK"

set -a
. "$HERE/docker/kino.env"
set +a
psql "$KINO_TEST_POSTGRES/postgres" -qc "CREATE DATABASE kino"
export KINO_DATABASE_URL="$KINO_TEST_POSTGRES/kino"
export KINO_STORAGE="s3://kino-media?endpoint=$KINO_TEST_S3&region=us-east-1&path_style=true"
export KINO_PUBLIC_URL=http://127.0.0.1:18700
# s3s-fs's credentials, as scripts/backends.sh set them (kino.env has MinIO's).
export AWS_ACCESS_KEY_ID=kino AWS_SECRET_ACCESS_KEY=kino-secret

for node in a:18711 b:18712; do
  "$KINO" serve --listen "127.0.0.1:${node#*:}" --data-dir "$WORK/${node%%:*}" \
    --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 > "${node%%:*}.log" 2>&1 &
  sleep 3
done
sed -e 's/server kino-a:8080;/server 127.0.0.1:18711;/g; s/server kino-b:8080;/server 127.0.0.1:18712;/' \
    -e 's/listen 8080;/listen 127.0.0.1:18700;/' \
    -e "s|^events {}|pid $WORK/nginx.pid;\nerror_log $WORK/error.log;\nevents {}|" \
    -e "s|^http {|http {\n  access_log off;\n  client_body_temp_path $WORK/body;\n  proxy_temp_path $WORK/proxy;\n  fastcgi_temp_path $WORK/f; uwsgi_temp_path $WORK/u; scgi_temp_path $WORK/s;|" \
    "$HERE/docker/nginx.conf" > nginx.conf
nginx -c "$WORK/nginx.conf" -p "$WORK"
trap 'nginx -c "$WORK/nginx.conf" -p "$WORK" -s stop; kill $(jobs -p) 2> /dev/null || true' EXIT
sleep 1

"$PYTHON" - <<'PY'
import json, os, subprocess
import cloudinary, cloudinary.api, cloudinary.uploader, cloudinary.utils, requests

clip = os.environ["CLIP"]
cloudinary.config(upload_prefix="http://127.0.0.1:18700", cname="127.0.0.1:18700", secure=False)
up = cloudinary.uploader.upload(clip, resource_type="video", public_id="compose/clip")
print("upload:", up["secure_url"], up["width"], up["height"])
original = open(clip, "rb").read()
same = all(requests.get(up["secure_url"]).content == original for _ in range(4))
print("the original, byte for byte, four times (both nodes):", same)
url = cloudinary.utils.cloudinary_url("compose/clip", resource_type="video", format="mp4",
                                      transformation=[{"width": 320, "crop": "scale"}])[0]
answers = [requests.get(url) for _ in range(4)]
print("a transformation, four times:", [a.status_code for a in answers])
open("t.mp4", "wb").write(answers[-1].content)
probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json",
                                   "-show_streams", "t.mp4"],
                                  capture_output=True, text=True, check=True).stdout)
print("its width:", [s.get("width") for s in probe["streams"] if s["codec_type"] == "video"])
print("derived files:", len(cloudinary.api.resource("compose/clip", resource_type="video")["derived"]))
assert same and all(a.status_code == 200 for a in answers)
PY
