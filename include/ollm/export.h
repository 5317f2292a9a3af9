/* Symbol export for libollm: the library is built with hidden visibility and
   marks its public API with OLLM_API. Identical for every build configuration. */
#ifndef OLLM_EXPORT_H
#define OLLM_EXPORT_H

#if defined(_WIN32)
#  if defined(OLLM_BUILDING_LIBRARY)
#    define OLLM_API __declspec(dllexport)
#  else
#    define OLLM_API
#  endif
#else
#  define OLLM_API __attribute__((visibility("default")))
#endif

#endif /* OLLM_EXPORT_H */
