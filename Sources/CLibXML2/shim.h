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
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <string.h>

/// Parses `length` bytes of UTF-8 HTML with libxml2's HTML parser, reporting to `sax` (called
/// with the parser context as its context; `state` is in the context's `_private`) instead of
/// building a tree. The setup is htmlReadMemory's with encoding "UTF-8" (libxml2 2.9: a memory
/// parser context, the handler copied over the context's, then what its htmlDoRead does), so the
/// handler sees the events from which htmlReadMemory would have built its tree.
/// Returns 0, or -1 when libxml2 could not allocate a context.
static inline int spindle_html_sax_parse_memory(const char *buffer, int length, const htmlSAXHandler *sax, void *state, int options) {
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buffer, length);
    if (ctxt == NULL) return -1;
    if (ctxt->sax != NULL) memcpy(ctxt->sax, sax, sizeof(xmlSAXHandlerV1));
    ctxt->_private = state;
    htmlCtxtUseOptions(ctxt, options);
    ctxt->html = 1;
    xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler("UTF-8");
    if (handler != NULL) {
        xmlSwitchToEncoding(ctxt, handler);
        if (ctxt->input->encoding != NULL) xmlFree((xmlChar *) ctxt->input->encoding);
        ctxt->input->encoding = xmlStrdup(BAD_CAST "UTF-8");
    }
    htmlParseDocument(ctxt);
    if (ctxt->myDoc != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return 0;
}
