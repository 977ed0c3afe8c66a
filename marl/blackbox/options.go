package blackbox

// The options of each search kind as one flat value: Config (the settings
// every kind shares) inlined with the kind's own settings. A run's
// [algorithm.<kind>] table decodes straight into these types; Settings
// returns the Config that New takes.
type (
	// RandomOptions are the options of random search.
	RandomOptions struct{ Config }
	// GeneticOptions are the options of the genetic algorithm.
	GeneticOptions struct {
		Config
		GeneticConfig
	}
	// ACOOptions are the options of ant colony optimisation.
	ACOOptions struct {
		Config
		ACOConfig
	}
	// TPEOptions are the options of the tree-structured Parzen estimator.
	TPEOptions struct {
		Config
		TPEConfig
	}
)

// Options returns the default options of a kind (nil for an unknown one):
// a RandomOptions, GeneticOptions, ACOOptions or TPEOptions built from
// DefaultConfig.
func Options(kind string) any {
	d := DefaultConfig()
	switch kind {
	case KindRandom:
		return RandomOptions{d}
	case KindGenetic:
		return GeneticOptions{d, d.Genetic}
	case KindACO:
		return ACOOptions{d, d.ACO}
	case KindTPE:
		return TPEOptions{d, d.TPE}
	}
	return nil
}

// Settings returns the Config of the options.
func (o RandomOptions) Settings() Config { return o.Config }

// Settings returns the Config of the options.
func (o GeneticOptions) Settings() Config {
	c := o.Config
	c.Genetic = o.GeneticConfig
	return c
}

// Settings returns the Config of the options.
func (o ACOOptions) Settings() Config {
	c := o.Config
	c.ACO = o.ACOConfig
	return c
}

// Settings returns the Config of the options.
func (o TPEOptions) Settings() Config {
	c := o.Config
	c.TPE = o.TPEConfig
	return c
}

// Validate checks the options (see Config.Validate).
func (o RandomOptions) Validate() error { return o.Settings().Validate() }

// Validate checks the options (see Config.Validate).
func (o GeneticOptions) Validate() error { return o.Settings().Validate() }

// Validate checks the options (see Config.Validate).
func (o ACOOptions) Validate() error { return o.Settings().Validate() }

// Validate checks the options (see Config.Validate).
func (o TPEOptions) Validate() error { return o.Settings().Validate() }
