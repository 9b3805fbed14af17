// Package diskfile opens a virtual disk file of any format hvmigrate reads,
// choosing the reader from the file's content rather than its name:
//
//   - "vhdxfile" at offset 0: VHDX;
//   - "conectix" at offset 0, or as the footer cookie at the end of the file
//     (512 bytes from the end, or 511 for old footers): VHD;
//   - otherwise raw, but only when the name ends in .raw or .img (any case)
//     or the path is a block device; anything else is ErrUnknownFormat, so
//     that a damaged VHD or VHDX is never silently read as raw bytes.
package diskfile
