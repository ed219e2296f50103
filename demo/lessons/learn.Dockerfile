# The image of the guided lessons (minidocker learn): base, and a layer of
# files for the lessons' containers to change, and one with a big file.
# Built when a lesson starts; the build cache makes that instant after the
# first time.
FROM base
RUN mkdir -p /app/static /app/cache /app/data && \
    printf 'version=1\ncolour=blue\n' > /app/config.ini && \
    printf '<h1>version 1</h1>\n' > /app/static/index.html && \
    printf 'body { color: blue }\n' > /app/static/old.css && \
    printf '(a logo)\n' > /app/static/logo.txt && \
    printf 'cache entry a\n' > /app/cache/a.tmp && \
    printf 'cache entry b\n' > /app/cache/b.tmp && \
    printf 'Welcome to the layers lesson.\n' > /etc/motd
RUN seq 1 200000 > /app/data/numbers.txt
WORKDIR /app
CMD ["/bin/sh"]
