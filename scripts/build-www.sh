#!/bin/sh
# Assembles the front end in build/www: our own files from www/, the npm
# libraries it uses (never committed), and a precompressed .gz beside every
# text asset so that the server can send gzip without compressing per request.
set -eu
cd "$(dirname "$0")/.."

if [ ! -f node_modules/echarts/dist/echarts.min.js ]; then
	npm install --no-audit --no-fund --loglevel=error
fi

rm -rf build/www
mkdir -p build/www/vendor
cp -R www/. build/www/
cp node_modules/echarts/dist/echarts.min.js build/www/vendor/echarts.min.js
cp node_modules/echarts/LICENSE build/www/vendor/echarts.LICENSE.txt
if [ -f node_modules/echarts/map/json/world.json ]; then
	cp node_modules/echarts/map/json/world.json build/www/vendor/world.json
fi

find build/www -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \
	-o -name '*.json' -o -name '*.svg' -o -name '*.txt' \) -size +511c |
while read -r f; do
	gzip -9 -n -c "$f" > "$f.gz"
	touch -r "$f" "$f.gz"
done
