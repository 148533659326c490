// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* The shared ACE core, compiled unchanged into ace.ko. */
#include "../shared/ace_mproc.c"
