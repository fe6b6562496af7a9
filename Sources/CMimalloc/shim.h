// mimalloc (Debian/Ubuntu: libmimalloc-dev), linked into the `spindle` executable so that it
// replaces glibc's malloc for the whole process: the Swift runtime, Foundation and libxml2
// included. See docs/performance.md ("The allocator").
#include <mimalloc.h>
