/* cgi-floor: the least a CGI program can do per request — print the
 * 43-byte GIF — so that the track bench part shows what fork and exec
 * cost before nudge-track does any work. */
#include <stdio.h>

int
main(void)
{
	static const unsigned char gif[43] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
		0xff, 0xff, 0xff, 0, 0, 0, 0x21, 0xf9, 4, 1, 0, 0, 0, 0,
		0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
	};

	fputs("Status: 200 OK\r\nContent-Type: image/gif\r\n"
	    "Content-Length: 43\r\n\r\n", stdout);
	fwrite(gif, 1, sizeof gif, stdout);
	return 0;
}
