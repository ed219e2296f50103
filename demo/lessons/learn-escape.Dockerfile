# The image of the pivot_root lesson (minidocker learn pivot-root): base,
# and /lesson/escape, the classic way out of a chroot(2) jail, a perl
# script with only perl's builtins (the default image has perl-base's
# program, not its modules). `escape CMD ARGS` runs CMD where the climb
# ended; it writes nothing but the directory /tmp/jail, in the container.
FROM base
RUN mkdir -p /lesson /usr/local/bin && printf '%s\n' \
      '#!/usr/bin/perl' \
      '# 1. chroot(2) into a new directory, without entering it: the working' \
      '#    directory is now outside the root, where the kernel does not stop "..".' \
      'mkdir "/tmp/jail"; chroot "/tmp/jail" or die "chroot /tmp/jail: $!\n";' \
      '# 2. climb: the kernel stops ".." at the root of the process, which this' \
      '#    climb never meets, and at the top of the mount tree.' \
      'chdir ".." for 1 .. 64;' \
      '# 3. make where the climb ended the root, and run the command there.' \
      'chroot "." or die "chroot .: $!\n"; chdir "/";' \
      'exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";' \
      > /lesson/escape && \
    chmod 755 /lesson/escape && ln -s /lesson/escape /usr/local/bin/escape
CMD ["/bin/sh"]
