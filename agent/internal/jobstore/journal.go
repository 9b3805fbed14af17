package jobstore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Journal is the record of acknowledged work of one job: the chunks of an
// initial copy, the staged blocks of a cycle upload. Each mark is committed
// before the call returns.
type Journal struct {
	s   *Store
	job []byte
}

// Journal returns the journal of job id.
func (s *Store) Journal(id string) *Journal { return &Journal{s: s, job: []byte(id)} }

var (
	keyChunkSize = []byte("chunk_size")
	keyFooter    = []byte("footer")
	bucketChunks = []byte("chunks")
	bucketParts  = []byte("parts")
)

// Load returns the chunk size the copy began with (0 if it never began),
// the acknowledged chunks, and whether the footer was written.
func (j *Journal) Load() (chunkSize int64, done map[int64]bool, footer bool, err error) {
	done = map[int64]bool{}
	err = j.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJournals).Bucket(j.job)
		if b == nil {
			return nil
		}
		if v := b.Get(keyChunkSize); len(v) == 8 {
			chunkSize = int64(binary.BigEndian.Uint64(v))
		}
		footer = b.Get(keyFooter) != nil
		if c := b.Bucket(bucketChunks); c != nil {
			return c.ForEach(func(k, _ []byte) error {
				done[int64(binary.BigEndian.Uint64(k))] = true
				return nil
			})
		}
		return nil
	})
	return chunkSize, done, footer, err
}

// Begin starts the journal afresh with a chunk size.
func (j *Journal) Begin(chunkSize int64) error {
	return j.s.db.Update(func(tx *bolt.Tx) error {
		jb := tx.Bucket(bucketJournals)
		if jb.Bucket(j.job) != nil {
			if err := jb.DeleteBucket(j.job); err != nil {
				return err
			}
		}
		b, err := jb.CreateBucket(j.job)
		if err != nil {
			return err
		}
		return b.Put(keyChunkSize, u64(uint64(chunkSize)))
	})
}

// MarkChunk records chunk i as acknowledged.
func (j *Journal) MarkChunk(i int64) error {
	return j.update(func(b *bolt.Bucket) error {
		c, err := b.CreateBucketIfNotExists(bucketChunks)
		if err != nil {
			return err
		}
		return c.Put(u64(uint64(i)), nil)
	})
}

// MarkFooter records that the footer was written.
func (j *Journal) MarkFooter() error {
	return j.update(func(b *bolt.Bucket) error { return b.Put(keyFooter, []byte{1}) })
}

// MarkBlock records block index of disk as staged, with the CRC-64 of its
// bytes.
func (j *Journal) MarkBlock(disk, index int, crc uint64) error {
	return j.update(func(b *bolt.Bucket) error {
		c, err := b.CreateBucketIfNotExists(bucketParts)
		if err != nil {
			return err
		}
		return c.Put(partKey(disk, index), u64(crc))
	})
}

// Blocks returns the staged blocks of disk recorded so far: index to CRC-64.
func (j *Journal) Blocks(disk int) (map[int]uint64, error) {
	blocks := map[int]uint64{}
	err := j.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJournals).Bucket(j.job)
		if b == nil || b.Bucket(bucketParts) == nil {
			return nil
		}
		c := b.Bucket(bucketParts).Cursor()
		prefix := partKey(disk, 0)[:4]
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != 8 || len(v) != 8 {
				return fmt.Errorf("journal %s: malformed block record", j.job)
			}
			blocks[int(binary.BigEndian.Uint32(k[4:]))] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return blocks, err
}

// MarkCommitted records that the object of disk was committed.
func (j *Journal) MarkCommitted(disk int) error {
	return j.update(func(b *bolt.Bucket) error { return b.Put(committedKey(disk), []byte{1}) })
}

// Committed reports whether the object of disk was committed.
func (j *Journal) Committed(disk int) (bool, error) {
	var done bool
	err := j.s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketJournals).Bucket(j.job); b != nil {
			done = b.Get(committedKey(disk)) != nil
		}
		return nil
	})
	return done, err
}

func committedKey(disk int) []byte {
	return binary.BigEndian.AppendUint32([]byte("committed/"), uint32(disk))
}

func partKey(disk, index int) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(disk)), uint32(index))
}

// update runs fn on the job's journal bucket, creating it if needed.
func (j *Journal) update(fn func(*bolt.Bucket) error) error {
	return j.s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketJournals).CreateBucketIfNotExists(j.job)
		if err != nil {
			return err
		}
		return fn(b)
	})
}
