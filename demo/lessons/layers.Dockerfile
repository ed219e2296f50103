# The image of the lesson "layers" (minidocker learn layers): base and three
# layers that add, change and delete, as demo/setup.sh writes them for the
# walkthrough's image "lesson". Here each RUN's container makes the marks
# and the build packs them: rm makes a whiteout (.wh.README.txt), rm -r and
# mkdir again an opaque directory (static/.wh..wh..opq).
FROM base
# Layer 2: the files the next layers change.
RUN mkdir -p /app/static /app/cache && \
    printf 'Lesson app. This file is deleted by the next layer.\n' > /app/README.txt && \
    printf 'version=1\ncolour=blue\n' > /app/config.ini && \
    printf '<h1>version 1</h1>\n' > /app/static/index.html && \
    printf 'body { color: blue }\n' > /app/static/old.css && \
    printf '(a logo)\n' > /app/static/logo.txt && \
    printf 'cache entry a\n' > /app/cache/a.tmp && \
    printf 'cache entry b\n' > /app/cache/b.tmp
# Layer 3: a changed file, a whiteout, an opaque directory, a big file.
RUN printf 'version=2\ncolour=green\n' > /app/config.ini && \
    rm /app/README.txt && \
    rm -r /app/static && mkdir /app/static && \
    printf '<h1>version 2, new</h1>\n' > /app/static/index.html && \
    mkdir /app/data && head -c 2097152 /dev/zero > /app/data/big.bin
# Layer 4: deleting in a later layer hides the file; the image keeps its
# bytes in layer 3.
RUN rm /app/data/big.bin && printf 'cache entry c\n' > /app/cache/c.tmp
WORKDIR /app
CMD ["/bin/sh"]
