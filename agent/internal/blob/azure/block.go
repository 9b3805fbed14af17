package azure

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

// StageBlock implements blob.Store.
func (s *Store) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	const op = "stage block"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	if err := blob.CheckBlockID(name, id); err != nil {
		return err
	}
	if p.Size <= 0 || p.Size > blob.MaxStageBlock {
		return storeerr.Invalid(op, name, "block of %d bytes", p.Size)
	}
	_, err := s.container.NewBlockBlobClient(name).StageBlock(ctx, encodeID(id), newBody(p),
		&blockblob.StageBlockOptions{TransactionalValidation: azblob.TransferValidationTypeCRC64(p.CRC64)})
	return storeerr.FromSDK(ctx, op, name, err)
}

// CommitBlocks implements blob.Store. The commit carries If-None-Match: *;
// on a conflict the committed list decides whether this was our own earlier
// commit whose answer was lost.
func (s *Store) CommitBlocks(ctx context.Context, name string, ids []string) error {
	const op = "commit blocks"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	enc := make([]string, len(ids))
	for i, id := range ids {
		if err := blob.CheckBlockID(name, id); err != nil {
			return err
		}
		enc[i] = encodeID(id)
	}
	bb := s.container.NewBlockBlobClient(name)
	_, err := bb.CommitBlockList(ctx, enc, &blockblob.CommitBlockListOptions{AccessConditions: ifNoneMatchAny()})
	err = storeerr.FromSDK(ctx, op, name, err)
	if !isConflict(err) {
		return err
	}
	same, lerr := s.committedIs(ctx, bb, enc)
	switch {
	case lerr != nil:
		return err // cannot tell (e.g. no read permission): report the conflict
	case same:
		return nil
	default:
		return &storeerr.Error{Op: op, Name: name, Status: 409, Class: storeerr.ErrExists,
			Err: errors.New("the blob exists with another block list")}
	}
}

// committedIs reports whether the blob's committed block list is enc.
func (s *Store) committedIs(ctx context.Context, bb *blockblob.Client, enc []string) (bool, error) {
	r, err := bb.GetBlockList(ctx, blockblob.BlockListTypeCommitted, nil)
	if err != nil {
		return false, fmt.Errorf("get block list: %w", err)
	}
	var got []string
	if r.BlockList.CommittedBlocks != nil {
		for _, b := range r.BlockList.CommittedBlocks {
			if b.Name != nil {
				got = append(got, *b.Name)
			}
		}
	}
	return slices.Equal(got, enc), nil
}

// encodeID returns the base64 form the service requires.
func encodeID(id string) string {
	return base64.StdEncoding.EncodeToString([]byte(id))
}

// isConflict reports whether err says the blob already exists.
func isConflict(err error) bool {
	return errors.Is(err, storeerr.ErrExists) || errors.Is(err, storeerr.ErrConditionNotMet)
}
