package d1sandbox

import (
	"context"
	"fmt"

	"ctpdesk/issuerdb"
)

// GeneratorPortfolio serves the synthetic portfolio of issuerdb.NewGenerator(seed) straight
// from the generator, without a database: the same customers `ctpdesk seed` and `ctpdesk dev`
// write for that seed and count, so a standalone sandbox agrees with the dashboard.
type GeneratorPortfolio struct {
	gen   *issuerdb.Generator
	index map[string]int
}

// NewGeneratorPortfolio indexes the first n customers of the seed's portfolio by consumer id.
func NewGeneratorPortfolio(seed int64, n int) (*GeneratorPortfolio, error) {
	if n < 1 || n > 5_000_000 {
		return nil, fmt.Errorf("sandbox: portfolio size %d is out of range [1, 5000000]", n)
	}
	p := &GeneratorPortfolio{gen: issuerdb.NewGenerator(seed), index: make(map[string]int, n)}
	for i := range n {
		p.index[p.gen.Customer(i).ConsumerID] = i
	}
	return p, nil
}

// CustomerByConsumerID implements PortfolioSource.
func (p *GeneratorPortfolio) CustomerByConsumerID(_ context.Context, consumerID string) (issuerdb.Customer, error) {
	i, ok := p.index[consumerID]
	if !ok {
		return issuerdb.Customer{}, issuerdb.ErrNotFound
	}
	return p.gen.Customer(i), nil
}
