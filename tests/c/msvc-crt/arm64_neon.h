/* MSVC's name for the NEON intrinsics header; clang's is arm_neon.h (see string.h). */
#include <arm_neon.h>
