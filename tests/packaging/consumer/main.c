/* Installed-tree consumer: the C ABI from plain C99. */
#include <ollm.h>

#include <stdio.h>

int main(void) {
  const char* version = ollm_version();
  printf("c: ollm %s\n", version ? version : "(null)");
  return version != NULL && version[0] != '\0' ? 0 : 1;
}
