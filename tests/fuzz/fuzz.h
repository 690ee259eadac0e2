/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every fuzz target defines: libFuzzer's entry point.  The
 * same target links with libFuzzer (`make fuzz`, clang) or with replay.c
 * (`make test`, any compiler), which feeds it the seed corpus.
 */
#ifndef SHMKIT_FUZZ_H
#define SHMKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* SHMKIT_FUZZ_H */
