/* Stands in for the MSVC C runtime's header (see string.h). */
#pragma once
double exp(double);
double log1p(double);
