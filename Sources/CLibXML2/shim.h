#include <libxml/xmlversion.h>
// libxml/encoding.h includes the system ICU headers when libxml2 was built with ICU. On Linux,
// Foundation brings its own ICU module (_FoundationICU) with a different UErrorCode, and Clang
// rejects the two definitions in one compilation ("UErrorCode has different definitions").
// Nothing Swift uses from libxml2 involves ICU types; only the tail of xmlCharEncodingHandler,
// which Swift never allocates or reads, loses its two ICU pointer fields.
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/tree.h>
